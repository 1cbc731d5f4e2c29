package dev.backstop.internal;

import java.lang.ref.Cleaner;

/**
 * The checked failure of a guarded future, reported only if nobody reads it: when the future becomes unreachable
 * without {@code get()} having been called, the Cleaner runs this and the failure is reported then (or, if the
 * task has not failed yet, as soon as it does). Costs one {@link Cleaner} registration per future. Thread-safe.
 */
final class UnreadFailure implements Runnable {

    private static final Capture EXECUTOR = new Capture(Source.EXECUTOR, null, null, null);

    /** One daemon thread for the whole library, with no context class loader to pin. */
    private static final Cleaner CLEANER = Cleaner.create(task -> {
        Thread thread = new Thread(task, "backstop-unread-futures");
        thread.setDaemon(true);
        thread.setContextClassLoader(null);
        return thread;
    });

    private final Reporter reporter;
    private Throwable failure;
    private boolean observed;
    private boolean abandoned;

    UnreadFailure(Reporter reporter) {
        this.reporter = reporter;
    }

    /** Watches {@code future}: when it becomes unreachable, this runs. */
    void watch(Object future) {
        CLEANER.register(future, this);
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
