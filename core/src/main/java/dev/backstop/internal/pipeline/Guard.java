package dev.backstop.internal.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import org.slf4j.MDC;

/**
 * The one guard, Java's {@code panics.Catcher}: every piece of work Backstop runs for an application (child and
 * background tasks, guarded executors' tasks, guarded threads) runs through {@link #run}, which installs the context
 * captured where the work was started, runs it, catches whatever it throws, classifies it ({@link Classifier}),
 * reports it through the {@link Pipeline} (with the captured context still installed, so the lines carry it), and
 * puts the thread back as it was. Failures caught elsewhere (an uncaught-exception handler, a failed
 * {@code CompletionStage}) are reported through {@link #report}. Immutable and thread-safe.
 */
public final class Guard {

    /** What the guard runs. */
    public interface Work {
        /** The work itself. */
        void runGuarded() throws Throwable;

        /** Where the work runs, for the report; asked only when it failed. */
        Capture where();

        /**
         * Whether an interruption that ends the work is it obeying a cancel (not a failure). Asked only when it
         * failed. Executors' work: always (a {@code cancel(true)}, a {@code shutdownNow}); a child task: only when its
         * group or future cancelled it.
         */
        default boolean interruptIsCancel() {
            return true;
        }
    }

    /**
     * The fatal error this thread reported and is rethrowing, by identity and error id, so that the uncaught-exception
     * handler its death reaches does not report it again. A string, so it holds nothing of the application.
     */
    private static final ThreadLocal<String> RETHROWING = new ThreadLocal<>();

    private final Pipeline pipeline;

    public Guard(Pipeline pipeline) {
        this.pipeline = pipeline;
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    /**
     * @return the running thread's OpenTelemetry context alone (its MDC is left to be captured later, when needed),
     *     the root context included, so that work about an untraced request is kept out of another's trace; or
     *     {@link Context#NONE} without the API (no allocation then)
     */
    public static Context captureTrace() {
        Object trace = Tracing.captureOrRoot();
        if (trace == null) {
            return Context.NONE;
        }
        Context root = Context.ROOT_TRACE;
        return root != null && root.trace == trace ? root : new Context(null, trace);
    }

    /**
     * The context of the current thread to carry into work it starts: its SLF4J MDC. Never throws: an MDC adapter
     * that fails gives {@link Context#NONE}.
     */
    public static Context capture() {
        Object trace = Tracing.capture();
        try {
            Map<String, String> mdc = MDC.getCopyOfContextMap();
            if ((mdc == null || mdc.isEmpty()) && trace == null) {
                return Context.EMPTY; // nothing to copy: the common case costs no allocation
            }
            return new Context(mdc == null ? Map.of() : mdc, trace);
        } catch (RuntimeException brokenMdc) {
            return trace == null ? Context.NONE : new Context(null, trace);
        }
    }

    /**
     * Runs {@code work} with {@code context} installed and reports what it throws: a panic (unchecked, or fatal) at
     * once; a checked exception or a deliberate {@code AbortRequestException} only when {@code observed} is false,
     * that is when nobody will read the work's result; an interruption that means a cancel, never.
     *
     * @return null when the work returned normally; else what it threw, classified, with its error id if it was
     *     reported
     */
    public Report run(Context context, Work work, boolean observed) {
        Context.Installed previous = context.install();
        try {
            work.runGuarded();
            return null;
        } catch (Throwable failure) {
            return settle(failure, work, observed);
        } finally {
            context.restore(previous);
        }
    }

    private Report settle(Throwable failure, Work work, boolean observed) {
        Kind kind;
        try {
            kind = Classifier.inTask(failure, work.interruptIsCancel());
        } catch (Throwable rulesFailed) {
            kind = Kind.PANIC;
        }
        if (kind == Kind.INTERRUPTED || (observed && !kind.isPanic())) {
            return new Report(kind, null, failure);
        }
        Report reported = pipeline.panic(failure, where(work), kind == Kind.FATAL ? Kind.FATAL : Kind.PANIC);
        return kind.isPanic() ? reported : new Report(kind, reported.errorId(), failure);
    }

    private static Capture where(Work work) {
        try {
            return work.where();
        } catch (Throwable broken) {
            return Capture.EXECUTOR;
        }
    }

    /**
     * Reports a failure that ended work outside any guard: a thread's uncaught failure, or the failure a
     * {@code CompletionStage} ended with (unwrapped from {@code CompletionException}; a cancellation is not
     * reported).
     *
     * @return the report, or null for a cancelled stage
     */
    public Report report(Throwable failure, Capture where) {
        String rethrowing = RETHROWING.get();
        if (rethrowing != null) {
            RETHROWING.remove();
            if (rethrowing.startsWith(mark(failure))) {
                // The same failure this thread's guard reported a moment ago, now ending the thread: one report chain.
                return new Report(Kind.FATAL, rethrowing.substring(rethrowing.indexOf(' ') + 1), failure);
            }
        }
        Throwable cause = failure;
        if (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof CancellationException) {
            return null;
        }
        return pipeline.panic(cause, where, Classifier.isFatal(cause) ? Kind.FATAL : Kind.PANIC);
    }

    /**
     * Notes that this thread is about to rethrow {@code reported}, a fatal error the guard reported, so that it ends
     * the thread: the uncaught-exception handler it reaches then knows it as reported ({@link #report}).
     */
    public static void rethrowing(Report reported) {
        RETHROWING.set(mark(reported.failure()) + reported.errorId());
    }

    private static String mark(Throwable failure) {
        return Integer.toHexString(System.identityHashCode(failure)) + ' ';
    }

    /**
     * A snapshot of a thread's context (its SLF4J MDC, and its OpenTelemetry {@code Context} when the application
     * has the API), to install in the thread that runs the work. Immutable.
     */
    public static final class Context {

        /** Carries nothing: the running thread's own MDC is left as it is. */
        public static final Context NONE = new Context(null, null);

        /**
         * The root OpenTelemetry context alone (the trace of an untraced request, the usual one), made once so that
         * such a request costs no allocation; null without the API.
         */
        static final Context ROOT_TRACE = rootTrace();

        private static Context rootTrace() {
            Object root = Tracing.root();
            return root == null ? null : new Context(null, root);
        }

        /** An empty MDC: the running thread's is cleared while the work runs. */
        static final Context EMPTY = new Context(Map.of(), null);

        private final Map<String, String> mdc;
        /** An OpenTelemetry {@code Context}, or null. */
        private final Object trace;

        private Context(Map<String, String> mdc, Object trace) {
            this.mdc = mdc;
            this.trace = trace;
        }

        /** What {@link #install()} put in place, for {@link #restore}. */
        static final class Installed {
            final Map<String, String> mdc;
            final AutoCloseable trace;

            Installed(Map<String, String> mdc, AutoCloseable trace) {
                this.mdc = mdc;
                this.trace = trace;
            }
        }

        /** @return this context, with {@code other}'s trace when it has none of its own */
        public Context orTraceOf(Context other) {
            return trace != null || other.trace == null ? this : new Context(mdc, other.trace);
        }

        /** @return the MDC this context installs, or null when it leaves the thread's own */
        public Map<String, String> mdc() {
            return mdc;
        }

        /**
         * Adds to the current thread's MDC the entries of this context it lacks, for lines written about a request
         * from a thread that is not running its work (a completion callback, a timer, a container's async event);
         * the thread's own entries win; its trace is this context's unless the thread is in the same trace already (see
         * {@link Tracing#attachUnlessSameTrace}). Closing the result removes what was added. Never throws.
         */
        public Added addMissing() {
            AutoCloseable scope = Tracing.attachUnlessSameTrace(trace);
            if (mdc == null || mdc.isEmpty()) {
                return scope == null ? Added.NOTHING : new Added(List.of(), scope);
            }
            List<String> added = null;
            try {
                for (Map.Entry<String, String> entry : mdc.entrySet()) {
                    if (MDC.get(entry.getKey()) == null) {
                        MDC.put(entry.getKey(), entry.getValue());
                        if (added == null) {
                            added = new ArrayList<>(mdc.size());
                        }
                        added.add(entry.getKey());
                    }
                }
            } catch (RuntimeException noMdc) {
                // An MDC adapter that fails: the lines go out without it.
            }
            return added == null && scope == null ? Added.NOTHING
                    : new Added(added == null ? List.of() : added, scope);
        }

        /** Runs {@code action} with {@link #addMissing()} in effect. */
        public void runWith(Runnable action) {
            try (Added ignored = addMissing()) {
                action.run();
            }
        }

        /** Installs this context (clearing what the thread had); returns what to restore, or null. */
        Installed install() {
            AutoCloseable scope = Tracing.attach(trace);
            Map<String, String> previous = null;
            if (mdc != null) {
                try {
                    Map<String, String> before = MDC.getCopyOfContextMap();
                    set(mdc);
                    previous = before == null ? Map.of() : before;
                } catch (RuntimeException noMdc) {
                    previous = null;
                }
            }
            return previous == null && scope == null ? null : new Installed(previous, scope);
        }

        /** Puts back what the thread had before, whatever the work did to the MDC meanwhile. */
        void restore(Installed previous) {
            if (previous == null) {
                return;
            }
            Tracing.detach(previous.trace);
            if (mdc == null || previous.mdc == null) {
                return;
            }
            try {
                set(previous.mdc);
            } catch (RuntimeException noMdc) {
                // Nothing to restore with.
            }
        }

        /** What {@link #addMissing()} added to a thread's MDC, removed again by {@link #close()}. */
        public static final class Added implements AutoCloseable {
            static final Added NOTHING = new Added(List.of(), null);

            private final List<String> keys;
            private final AutoCloseable scope;

            private Added(List<String> keys, AutoCloseable scope) {
                this.keys = keys;
                this.scope = scope;
            }

            @Override
            public void close() {
                Tracing.detach(scope);
                for (String key : keys) {
                    try {
                        MDC.remove(key);
                    } catch (RuntimeException noMdc) {
                        // Nothing to remove with.
                    }
                }
            }
        }

        private static void set(Map<String, String> context) {
            if (context.isEmpty()) {
                MDC.clear();
            } else {
                MDC.setContextMap(context);
            }
        }
    }
}
