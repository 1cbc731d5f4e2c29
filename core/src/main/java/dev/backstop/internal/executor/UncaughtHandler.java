package dev.backstop.internal.executor;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The JVM-wide default uncaught-exception handler Backstop installs: it reports the failure ({@code source=thread})
 * and then hands it to the handler that was installed before, if any (nothing is printed when there was none: the
 * failure is already in the logs).
 *
 * <p>Uninstalling takes this handler out of the chain wherever it stands, so that an undeployed web application
 * leaves no reference to its class loader behind, even when a newer version of the application installed its own
 * handler on top in the meantime. The handlers of two versions are instances of two different classes (one per
 * web-app class loader), so they talk through JDK types only: each is a {@code Supplier} of the handler it delegates
 * to and a {@code Consumer} that takes a new one, and each recognises the others by class name. A handler of another
 * library on top stops the walk; then this one stays in the chain, inert, until that library's handler goes.
 * Thread-safe: install and uninstall, in any version, synchronise on the JDK's {@code UncaughtExceptionHandler}
 * interface, the one monitor they all share.
 */
public final class UncaughtHandler implements Thread.UncaughtExceptionHandler,
        Supplier<Thread.UncaughtExceptionHandler>, Consumer<Thread.UncaughtExceptionHandler> {

    private static final Object LOCK = Thread.UncaughtExceptionHandler.class;
    private static final String NAME = UncaughtHandler.class.getName();

    private volatile ExecutorGuard guard;
    private volatile Thread.UncaughtExceptionHandler previous;

    private UncaughtHandler(ExecutorGuard guard, Thread.UncaughtExceptionHandler previous) {
        this.guard = guard;
        this.previous = previous;
    }

    /** Installs a reporting handler in front of the current default one. */
    public static UncaughtHandler install(ExecutorGuard guard) {
        synchronized (LOCK) {
            UncaughtHandler handler = new UncaughtHandler(guard, Thread.getDefaultUncaughtExceptionHandler());
            Thread.setDefaultUncaughtExceptionHandler(handler);
            return handler;
        }
    }

    /** Takes this handler out of the chain: the handler before it takes its place. Idempotent. */
    public void uninstall() {
        synchronized (LOCK) {
            guard = null;
            Thread.UncaughtExceptionHandler before = previous;
            Thread.UncaughtExceptionHandler current = Thread.getDefaultUncaughtExceptionHandler();
            if (current == this) {
                Thread.setDefaultUncaughtExceptionHandler(before);
                previous = null;
            } else if (unlinkBelow(current, before)) {
                previous = null;
            }
            // Else another library's handler sits above: this one stays in the chain, passing failures on.
        }
    }

    /**
     * Walks down from {@code top} through Backstop handlers (of any version) to the one that delegates to us, and
     * makes it delegate to {@code before} instead.
     *
     * @return whether this handler is out of the chain
     */
    @SuppressWarnings("unchecked")
    private boolean unlinkBelow(Thread.UncaughtExceptionHandler top, Thread.UncaughtExceptionHandler before) {
        Thread.UncaughtExceptionHandler current = top;
        for (int depth = 0; current != null && depth < 1000 && isBackstopHandler(current); depth++) {
            Thread.UncaughtExceptionHandler next = ((Supplier<Thread.UncaughtExceptionHandler>) current).get();
            if (next == this) {
                ((Consumer<Thread.UncaughtExceptionHandler>) current).accept(before);
                return true;
            }
            current = next;
        }
        return false;
    }

    private static boolean isBackstopHandler(Thread.UncaughtExceptionHandler handler) {
        return handler instanceof Supplier && handler instanceof Consumer
                && handler.getClass().getName().equals(NAME);
    }

    /** The handler this one delegates to; part of the protocol between versions. */
    @Override
    public Thread.UncaughtExceptionHandler get() {
        return previous;
    }

    /** Delegates to {@code next} from now on; part of the protocol between versions. */
    @Override
    public void accept(Thread.UncaughtExceptionHandler next) {
        previous = next;
    }

    @Override
    public void uncaughtException(Thread thread, Throwable failure) {
        ExecutorGuard reporting = guard;
        if (reporting != null) {
            try {
                reporting.uncaught(failure);
            } catch (Throwable reportFailed) {
                // The pipeline does not throw; if it ever did, the previous handler still gets the failure.
            }
        }
        Thread.UncaughtExceptionHandler next = previous;
        if (next != null) {
            next.uncaughtException(thread, failure);
        }
    }
}
