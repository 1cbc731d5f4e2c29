package dev.backstop.internal;

import java.lang.ref.Cleaner;

/**
 * The checked failure of a guarded future, reported only if nobody reads it: when the future becomes unreachable
 * without {@code get()} having been called, the Cleaner runs this and the failure is reported then (or, if the
 * task has not failed yet, as soon as it does). Costs one {@link Cleaner} registration per future; the Cleaner is
 * the pipeline's own, so that its thread ends with it (a library-wide one would pin a web application's class
 * loader after undeploy). Thread-safe.
 */
final class UnreadFailure implements Runnable {

    private static final Capture EXECUTOR = new Capture(Source.EXECUTOR, null, null, null);

    private final Reporter reporter;
    private final Cleaner cleaner;
    private Throwable failure;
    private boolean observed;
    private boolean abandoned;

    UnreadFailure(Guard guard) {
        this.reporter = guard.reporter();
        this.cleaner = guard.cleaner();
    }

    /** Watches {@code future}: when it becomes unreachable, this runs. */
    void watch(Object future) {
        cleaner.register(future, this);
    }

    void failed(Throwable checked) {
        synchronized (this) {
            if (!abandoned || observed) {
                failure = checked;
                return;
            }
        }
        reporter.reportTask(checked, EXECUTOR);
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
            reporter.reportTask(lost, EXECUTOR);
        }
    }
}
