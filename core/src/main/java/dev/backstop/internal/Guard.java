package dev.backstop.internal;

import java.lang.ref.Cleaner;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import org.slf4j.MDC;

/**
 * Wraps work that runs outside any request (executor tasks, threads) so that its failures go through the pipeline:
 * reported once, in the thread where they happen, with the submitter's MDC installed when asked. Immutable and
 * thread-safe.
 */
public final class Guard {

    private static final Capture EXECUTOR = new Capture(Source.EXECUTOR, null, null, null);
    private static final Capture THREAD = new Capture(Source.THREAD, null, null, null);

    private final Reporter reporter;
    private final boolean propagateMdc;
    private final boolean cancelFailedPeriodicTasks;
    private volatile Cleaner cleaner;

    public Guard(Reporter reporter, boolean propagateMdc, boolean cancelFailedPeriodicTasks) {
        this.reporter = reporter;
        this.propagateMdc = propagateMdc;
        this.cancelFailedPeriodicTasks = cancelFailedPeriodicTasks;
    }

    public Reporter reporter() {
        return reporter;
    }

    /** What a guarded runnable does with its failure; it may rethrow it (sneakily) for the executor to keep. */
    @FunctionalInterface
    private interface OnFailure {
        void handle(Throwable failure);
    }

    /** Runs {@code task} with the submitter's MDC (when carried), handing any failure to {@code onFailure}. */
    private Runnable guarded(Runnable task, OnFailure onFailure) {
        Map<String, String> mdc = captureMdc();
        return () -> {
            Map<String, String> previous = install(mdc);
            try {
                task.run();
            } catch (Throwable failure) {
                onFailure.handle(failure);
            } finally {
                restore(mdc, previous);
            }
        };
    }

    /**
     * For {@code execute}: nobody can observe the failure, so it is reported and ends here, instead of killing the
     * pool's thread and reaching the uncaught-exception handler. Fatal errors are rethrown after the report.
     */
    Runnable execute(Runnable task) {
        return guarded(task, failure -> rethrowIfFatal(failure, reportUnlessInterrupted(failure, false)));
    }

    /** For futures: an unchecked failure is reported at once, then left in the future for whoever reads it. */
    Runnable submit(Runnable task) {
        return guarded(task, failure -> {
            reportUnlessInterrupted(failure, false);
            throw sneaky(failure);
        });
    }

    /**
     * For futures of callables: an unchecked failure is reported at once; a checked one is handed to
     * {@code unread}, which reports it if the future is never read. Either way the future holds it.
     */
    <T> Callable<T> submit(Callable<T> task, UnreadFailure unread) {
        Map<String, String> mdc = captureMdc();
        return () -> {
            Map<String, String> previous = install(mdc);
            try {
                return task.call();
            } catch (Throwable failure) {
                if (TaskRun.isInterruption(failure)) {
                    unread.observed(); // cancelled or shut down: nothing to report, now or later
                } else if (failure instanceof Exception && !(failure instanceof RuntimeException)) {
                    unread.failed(failure);
                } else {
                    reporter.reportTask(failure, EXECUTOR);
                }
                throw sneaky(failure);
            } finally {
                restore(mdc, previous);
            }
        };
    }

    /**
     * For periodic tasks: every failing run is reported, even when a task throws the same object each time. Then
     * the schedule goes on, or, with {@code cancelFailedPeriodicTasks}, the failure is rethrown and the executor
     * cancels the task as the JDK does.
     */
    Runnable periodic(Runnable task) {
        return guarded(task, failure -> {
            Report report = reportUnlessInterrupted(failure, true);
            if (cancelFailedPeriodicTasks) {
                throw sneaky(failure);
            }
            rethrowIfFatal(failure, report);
        });
    }

    /** For threads: a failure is reported as {@code source=thread} and ends with the thread, quietly. */
    public Runnable thread(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable failure) {
                rethrowIfFatal(failure, reporter.reportTask(failure, THREAD));
            }
        };
    }

    /** Reports a failure that reached a thread's uncaught-exception handler. */
    void uncaught(Throwable failure) {
        reporter.reportTask(failure, THREAD);
    }

    /** Reports the failure a {@code CompletionStage} ended with, unless it was cancelled on purpose. */
    public void stageFailed(Throwable failure) {
        Throwable cause = failure;
        if (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof CancellationException) {
            return;
        }
        reporter.reportTask(cause, EXECUTOR);
    }

    /** The submitter's MDC, or null when it is not carried; an empty map means "run with an empty MDC". */
    private Map<String, String> captureMdc() {
        if (!propagateMdc) {
            return null;
        }
        try {
            Map<String, String> context = MDC.getCopyOfContextMap();
            return context == null ? Map.of() : context;
        } catch (RuntimeException noMdc) {
            return null;
        }
    }

    /** Installs the captured MDC (clearing what the thread had); returns what to restore. */
    private static Map<String, String> install(Map<String, String> mdc) {
        if (mdc == null) {
            return null;
        }
        try {
            Map<String, String> previous = MDC.getCopyOfContextMap();
            if (mdc.isEmpty()) {
                MDC.clear();
            } else {
                MDC.setContextMap(mdc);
            }
            return previous == null ? Map.of() : previous;
        } catch (RuntimeException noMdc) {
            return null;
        }
    }

    /** Puts back what the thread had before the task, whatever the task did to the MDC meanwhile. */
    private static void restore(Map<String, String> mdc, Map<String, String> previous) {
        if (mdc == null || previous == null) {
            return;
        }
        try {
            if (previous.isEmpty()) {
                MDC.clear();
            } else {
                MDC.setContextMap(previous);
            }
        } catch (RuntimeException noMdc) {
            // Nothing to restore with.
        }
    }

    /**
     * A failure caused by an interrupt is the task obeying a {@code cancel(true)}, a {@code shutdownNow} or an
     * {@code invokeAny} that found its answer elsewhere, not a panic: it is not reported. Anything else is.
     */
    private Report reportUnlessInterrupted(Throwable failure, boolean everyTime) {
        if (TaskRun.isInterruption(failure)) {
            return null;
        }
        return everyTime ? reporter.reportAgain(failure, EXECUTOR) : reporter.reportTask(failure, EXECUTOR);
    }

    /** The Cleaner that watches this pipeline's unread futures; its thread ends when this Guard is unreachable. */
    Cleaner cleaner() {
        Cleaner current = cleaner;
        if (current == null) {
            synchronized (this) {
                current = cleaner;
                if (current == null) {
                    current = Cleaner.create(task -> {
                        Thread thread = new Thread(task, "backstop-unread-futures");
                        thread.setDaemon(true);
                        thread.setContextClassLoader(null);
                        return thread;
                    });
                    cleaner = current;
                }
            }
        }
        return current;
    }

    private static void rethrowIfFatal(Throwable failure, Report report) {
        if (report != null && report.kind() == Kind.FATAL) {
            throw sneaky(failure);
        }
    }

    @SuppressWarnings("unchecked")
    static <E extends Throwable> RuntimeException sneaky(Throwable failure) throws E {
        throw (E) failure;
    }
}
