package dev.backstop.internal.executor;

import java.lang.ref.Cleaner;

/**
 * The checked failure of a guarded future, reported only if nobody reads it: when the future becomes unreachable
 * without {@code get()} having been called, the Cleaner runs this and the failure is reported then (or, if the task
 * has not failed yet, as soon as it does). Costs one {@link Cleaner} registration per future; the Cleaner is the
 * Backstop's own (see {@link ExecutorGuard#cleaner()}). Every failing run is its own report. Thread-safe.
 */
final class UnreadFailure implements Runnable {

    private final ExecutorGuard guard;
    private Throwable failure;
    private boolean observed;
    private boolean abandoned;

    UnreadFailure(ExecutorGuard guard) {
        this.guard = guard;
    }

    /** Watches {@code future}: when it becomes unreachable, this runs. */
    void watch(Object future) {
        guard.cleaner().register(future, this);
    }

    void failed(Throwable checked) {
        synchronized (this) {
            if (!abandoned || observed) {
                failure = checked;
                return;
            }
        }
        guard.unread(checked);
    }

    synchronized void observed() {
        observed = true;
        failure = null;
    }

    /** The future became unreachable. */
    @Override
    public void run() {
        Throwable lost;
        synchronized (this) {
            abandoned = true;
            lost = observed ? null : failure;
            failure = null;
        }
        if (lost != null) {
            guard.unread(lost);
        }
    }
}
