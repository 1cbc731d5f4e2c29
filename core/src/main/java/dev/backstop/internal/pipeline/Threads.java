package dev.backstop.internal.pipeline;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How Backstop makes the few threads of its own (the Java 17 child-task pool, the timeout timer, the log-summary
 * writer): daemon threads with no context class loader and none of the creating thread's inheritable thread locals,
 * so that they hold nothing of the application that happened to start them. Each one ends when its owner is closed
 * or when it has been idle, so what the JVM makes them inherit regardless (on Java 17, the creator's access-control
 * context) lives no longer than they do. Stateless.
 */
public final class Threads {

    private Threads() {
    }

    /** A daemon thread named {@code name} that inherits no thread locals and has no context class loader. */
    public static Thread daemon(String name, Runnable task) {
        Thread thread = new Thread(null, task, name, 0, false);
        thread.setDaemon(true);
        thread.setContextClassLoader(null);
        return thread;
    }

    /** Makes {@link #daemon} threads named {@code prefix1}, {@code prefix2}, ... */
    public static ThreadFactory daemons(String prefix) {
        AtomicInteger sequence = new AtomicInteger();
        return task -> daemon(prefix + sequence.incrementAndGet(), task);
    }
}
