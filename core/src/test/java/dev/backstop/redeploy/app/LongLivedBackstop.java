package dev.backstop.redeploy.app;

import dev.backstop.Backstop;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * How an application keeps one Backstop for its lifetime: built once at startup and kept in a static field, with a
 * guarded pool that the application shuts down when it is undeployed. The statics are not cleared: once the
 * application is gone, nothing should reach its classes.
 */
public final class LongLivedBackstop implements ServletContextListener {

    private static Backstop backstop;
    private static ExecutorService workers;

    static ExecutorService workers() {
        return workers;
    }

    @Override
    public void contextInitialized(ServletContextEvent event) {
        backstop = Backstop.builder().meterRegistry(new SimpleMeterRegistry()).build();
        workers = backstop.guard(Executors.newFixedThreadPool(2));
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
