package dev.backstop.internal.executor;

import java.util.function.BooleanSupplier;
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
 * to, a {@code Consumer} that takes a new one, and a {@code BooleanSupplier} that says whether it is still
 * installed; each recognises the others by class name. A handler of another library on top stops the walk: then this
 * one stays in the chain, inert (it only passes failures on), and the next install or uninstall of any Backstop, or
 * the next failure that reaches it, takes it out. Thread-safe: install and uninstall, in any version, synchronise on
 * the JDK's {@code UncaughtExceptionHandler} interface, the one monitor they all share.
 */
public final class UncaughtHandler implements Thread.UncaughtExceptionHandler,
        Supplier<Thread.UncaughtExceptionHandler>, Consumer<Thread.UncaughtExceptionHandler>, BooleanSupplier {

    private static final Object LOCK = Thread.UncaughtExceptionHandler.class;
    private static final String NAME = UncaughtHandler.class.getName();
    /** Bounds every walk down the chain, which another library could have made cyclic. */
    private static final int MAX_DEPTH = 1000;

    private volatile ExecutorGuard guard;
    private volatile Thread.UncaughtExceptionHandler previous;

    private UncaughtHandler(ExecutorGuard guard, Thread.UncaughtExceptionHandler previous) {
        this.guard = guard;
        this.previous = previous;
    }

    /** Installs a reporting handler in front of the current default one. */
    public static UncaughtHandler install(ExecutorGuard guard) {
        synchronized (LOCK) {
            removeInert();
            UncaughtHandler handler = new UncaughtHandler(guard, Thread.getDefaultUncaughtExceptionHandler());
            Thread.setDefaultUncaughtExceptionHandler(handler);
            return handler;
        }
    }

    /** Takes this handler out of the chain: the handler before it takes its place. Idempotent. */
    public void uninstall() {
        synchronized (LOCK) {
            guard = null; // inert from now on: it only passes failures on, until it is out of the chain
            removeInert();
        }
    }

    /**
     * Takes every inert Backstop handler (of any version) out of the chain, as far down as Backstop handlers reach:
     * off the top, where the default handler is one, and from under the Backstop handlers above it.
     */
    @SuppressWarnings("unchecked")
    private static void removeInert() {
        Thread.UncaughtExceptionHandler top = Thread.getDefaultUncaughtExceptionHandler();
        for (int depth = 0; depth < MAX_DEPTH && isInert(top); depth++) {
            top = release(top);
            Thread.setDefaultUncaughtExceptionHandler(top);
        }
        Thread.UncaughtExceptionHandler current = top;
        for (int depth = 0; depth < MAX_DEPTH && isBackstopHandler(current); depth++) {
            Thread.UncaughtExceptionHandler next = ((Supplier<Thread.UncaughtExceptionHandler>) current).get();
            while (isInert(next) && depth++ < MAX_DEPTH) {
                next = release(next);
                ((Consumer<Thread.UncaughtExceptionHandler>) current).accept(next);
            }
            current = next;
        }
    }

    /** Takes an inert handler out: it lets go of what it delegated to, which is returned to take its place. */
    @SuppressWarnings("unchecked")
    private static Thread.UncaughtExceptionHandler release(Thread.UncaughtExceptionHandler inert) {
        Thread.UncaughtExceptionHandler next = ((Supplier<Thread.UncaughtExceptionHandler>) inert).get();
        ((Consumer<Thread.UncaughtExceptionHandler>) inert).accept(null);
        return next;
    }

    private static boolean isInert(Thread.UncaughtExceptionHandler handler) {
        return isBackstopHandler(handler) && !((BooleanSupplier) handler).getAsBoolean();
    }

    private static boolean isBackstopHandler(Thread.UncaughtExceptionHandler handler) {
        return handler instanceof Supplier && handler instanceof Consumer && handler instanceof BooleanSupplier
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

    /** Whether this handler is installed and reporting; part of the protocol between versions. */
    @Override
    public boolean getAsBoolean() {
        return guard != null;
    }

    @Override
    public void uncaughtException(Thread thread, Throwable failure) {
        ExecutorGuard reporting = guard;
        Thread.UncaughtExceptionHandler next = previous;
        if (reporting != null) {
            try {
                reporting.uncaught(failure);
            } catch (Throwable reportFailed) {
                // The pipeline does not throw; if it ever did, the previous handler still gets the failure.
            }
        } else {
            synchronized (LOCK) {
                removeInert(); // an inert handler that still gets failures is still in the chain: take it out
            }
        }
        if (next != null) {
            next.uncaughtException(thread, failure);
        }
    }
}
