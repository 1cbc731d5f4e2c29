package dev.backstop.internal.executor;

import dev.backstop.internal.pipeline.Capture;
import dev.backstop.internal.pipeline.Classifier;
import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Kind;
import dev.backstop.internal.pipeline.Report;
import java.lang.ref.Cleaner;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * How work outside any request goes through the one {@link Guard}: the policy of each kind of hand-off (a task given
 * to {@code execute}, to {@code submit}, a periodic task, a thread) over the guard's run-catch-report. One per
 * {@code Backstop}. Immutable and thread-safe.
 */
public final class ExecutorGuard {

    private final Guard guard;
    private final boolean propagateMdc;
    private final boolean cancelFailedPeriodicTasks;
    private volatile Cleaner cleaner;

    public ExecutorGuard(Guard guard, boolean propagateMdc, boolean cancelFailedPeriodicTasks) {
        this.guard = guard;
        this.propagateMdc = propagateMdc;
        this.cancelFailedPeriodicTasks = cancelFailedPeriodicTasks;
    }

    Guard guard() {
        return guard;
    }

    /** The submitter's context when it is carried, else {@link Guard.Context#NONE}. */
    Guard.Context capture() {
        return propagateMdc ? Guard.capture() : Guard.Context.NONE;
    }

    /**
     * For {@code execute}: nobody can observe the failure, so it is reported and ends here, instead of killing the
     * pool's thread and reaching the uncaught-exception handler. Fatal errors are rethrown after the report.
     */
    Runnable execute(Runnable task) {
        return new GuardedRunnable(this, capture(), task, GuardedRunnable.Mode.EXECUTE);
    }

    /** For futures of runnables: a failure is reported at once, then left in the future for whoever reads it. */
    Runnable submit(Runnable task) {
        return new GuardedRunnable(this, capture(), task, GuardedRunnable.Mode.SUBMIT);
    }

    /**
     * For futures of callables: an unchecked failure is reported at once; a checked one is handed to {@code unread},
     * which reports it if the future is never read. Either way the future holds it.
     */
    <T> Callable<T> submit(Callable<T> task, UnreadFailure unread) {
        return new GuardedCallable<>(this, capture(), task, unread);
    }

    /**
     * For periodic tasks: every failing run is reported, even when a task throws the same object each time. Then the
     * schedule goes on, or, with {@code cancelFailedPeriodicTasks}, the failure is rethrown and the executor cancels
     * the task as the JDK does.
     */
    Runnable periodic(Runnable task) {
        return new GuardedRunnable(this, capture(), task, GuardedRunnable.Mode.PERIODIC);
    }

    /** For threads: a failure is reported as {@code source=thread} and ends with the thread, quietly. */
    public Runnable thread(Runnable task) {
        return new GuardedRunnable(this, Guard.Context.NONE, task, GuardedRunnable.Mode.THREAD);
    }

    boolean cancelFailedPeriodicTasks() {
        return cancelFailedPeriodicTasks;
    }

    /**
     * For a task of an executor that is not Backstop's: run as {@code execute} runs it; a task that is a
     * {@code Future} keeps its failure, and an unchecked one is reported once it ran.
     */
    public Runnable decorate(Runnable task) {
        Runnable guarded = execute(task);
        if (!(task instanceof Future<?> future)) {
            return guarded;
        }
        return () -> {
            guarded.run();
            reportIfPanicked(future);
        };
    }

    private void reportIfPanicked(Future<?> future) {
        if (!future.isDone() || future.isCancelled()) {
            return;
        }
        try {
            future.get(); // done: returns at once
        } catch (ExecutionException failed) {
            Throwable cause = failed.getCause() == null ? failed : failed.getCause();
            Kind kind = Classifier.inTask(cause, true);
            if (kind.isPanic()) {
                guard.pipeline().panic(cause, Capture.EXECUTOR, kind);
            }
        } catch (InterruptedException | RuntimeException notAFailure) {
            if (notAFailure instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Reports a failure caught outside any request by the application's or a framework's code. */
    public String report(Throwable failure) {
        return guard.pipeline().panic(failure, Capture.EXECUTOR,
                Classifier.isFatal(failure) ? Kind.FATAL : Kind.PANIC).errorId();
    }

    /** Reports the failure a {@code CompletionStage} ended with, unless it was cancelled on purpose. */
    public void stageFailed(Throwable failure) {
        guard.report(failure, Capture.EXECUTOR);
    }

    /** Reports a checked failure nobody read. */
    void unread(Throwable failure) {
        guard.pipeline().panic(failure, Capture.EXECUTOR, Kind.PANIC);
    }

    /** Reports a failure that reached a thread's uncaught-exception handler. */
    Report uncaught(Throwable failure) {
        return guard.report(failure, Capture.THREAD);
    }

    /**
     * The Cleaner that watches this Backstop's unread futures. {@link Cleaner#create()} runs it on a JDK innocuous
     * thread, which inherits neither the application's context class loader nor, on Java 17, its access-control
     * context: the thread holds nothing of the application, and ends once this Backstop is unreachable and every
     * future it watches is gone.
     */
    Cleaner cleaner() {
        Cleaner current = cleaner;
        if (current == null) {
            synchronized (this) {
                current = cleaner;
                if (current == null) {
                    current = Cleaner.create();
                    cleaner = current;
                }
            }
        }
        return current;
    }
}
