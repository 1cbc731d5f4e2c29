package dev.backstop.internal.executor;

import dev.backstop.internal.pipeline.Capture;
import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Kind;
import dev.backstop.internal.pipeline.Report;

/** A runnable of a guarded executor or thread factory, run through the guard with its hand-off's policy. */
final class GuardedRunnable implements Runnable, Guard.Work {

    /** The hand-off, which decides what happens to a failure after it was reported. */
    enum Mode {
        /** {@code execute}: ends here; only a fatal error is rethrown. */
        EXECUTE,
        /** {@code submit(Runnable)}: rethrown for the future to hold. */
        SUBMIT,
        /** A periodic task: the schedule goes on, unless failed periodic tasks are to be cancelled. */
        PERIODIC,
        /** A guarded thread: ends with the thread, quietly, reported as {@code source=thread}. */
        THREAD
    }

    private final ExecutorGuard owner;
    private final Guard.Context context;
    private final Runnable task;
    private final Mode mode;

    GuardedRunnable(ExecutorGuard owner, Guard.Context context, Runnable task, Mode mode) {
        this.owner = owner;
        this.context = context;
        this.task = task;
        this.mode = mode;
    }

    @Override
    public void run() {
        Report failed = owner.guard().run(context, this, false);
        if (failed == null) {
            return;
        }
        boolean rethrow = switch (mode) {
            case SUBMIT -> true;
            case PERIODIC -> owner.cancelFailedPeriodicTasks() || failed.kind() == Kind.FATAL;
            default -> failed.kind() == Kind.FATAL;
        };
        if (rethrow) {
            if (mode == Mode.EXECUTE || mode == Mode.THREAD) {
                Guard.rethrowing(failed); // a fatal error that ends this thread reaches the uncaught handler
            }
            throw GuardedCallable.sneaky(failed.failure());
        }
    }

    @Override
    public void runGuarded() {
        task.run();
    }

    @Override
    public Capture where() {
        return mode == Mode.THREAD ? Capture.THREAD : Capture.EXECUTOR;
    }

    @Override
    public String toString() {
        return "Guarded[" + task + "]";
    }
}
