package dev.backstop.internal;

/**
 * The JVM-wide default uncaught-exception handler Backstop installs: it reports the failure
 * ({@code source=thread}) and then hands it to the handler that was installed before, if any (nothing is printed
 * when there was none: the failure is already in the logs). Uninstalling restores that handler, so that an
 * undeployed web application leaves no reference to its class loader behind. Thread-safe.
 */
public final class UncaughtHandler implements Thread.UncaughtExceptionHandler {

    private static final Object LOCK = new Object();

    private volatile Guard guard;
    private final Thread.UncaughtExceptionHandler previous;
    private volatile boolean active = true;

    private UncaughtHandler(Guard guard, Thread.UncaughtExceptionHandler previous) {
        this.guard = guard;
        this.previous = previous;
    }

    /** Installs a reporting handler in front of the current default one. */
    public static UncaughtHandler install(Guard guard) {
        synchronized (LOCK) {
            UncaughtHandler handler = new UncaughtHandler(guard, Thread.getDefaultUncaughtExceptionHandler());
            Thread.setDefaultUncaughtExceptionHandler(handler);
            return handler;
        }
    }

    /**
     * Restores the handler that was there before, if this one is still the default. If something installed its own
     * handler on top of this one since, that one stays, and this one only passes failures on from now on.
     */
    public void uninstall() {
        synchronized (LOCK) {
            active = false;
            guard = null;
            if (Thread.getDefaultUncaughtExceptionHandler() == this) {
                // Skip handlers of ours that were uninstalled out of order: none of them may stay the default.
                Thread.setDefaultUncaughtExceptionHandler(firstActive(previous));
            }
        }
    }

    private static Thread.UncaughtExceptionHandler firstActive(Thread.UncaughtExceptionHandler handler) {
        Thread.UncaughtExceptionHandler current = handler;
        while (current instanceof UncaughtHandler ours && !ours.active) {
            current = ours.previous;
        }
        return current;
    }

    @Override
    public void uncaughtException(Thread thread, Throwable failure) {
        Guard reporting = guard;
        if (active && reporting != null) {
            try {
                reporting.uncaught(failure);
            } catch (Throwable reportFailed) {
                // The pipeline does not throw; if it ever did, the previous handler still gets the failure.
            }
        }
        Thread.UncaughtExceptionHandler next = firstActive(previous);
        if (next != null) {
            next.uncaughtException(thread, failure);
        }
    }
}
