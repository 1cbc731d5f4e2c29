package dev.backstop.example;

import dev.backstop.Backstop;
import dev.backstop.ChildTasks;
import dev.backstop.RecoveryFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small embedded Jetty 12 server with {@link RecoveryFilter} installed programmatically.
 *
 * <pre>
 * GET /hello    200 "hello"
 * GET /panic    the handler throws; Backstop answers 500 problem+json and logs the error id
 * GET /fanout?fail=N  three child tasks, the first N of them panic; any failure answers 500 with the child's id
 * GET /dropped-future  submits a failing task to a guarded executor and drops its future: reported anyway
 * (startup)     a periodic "cache refresh" fails on its first run, half a second after start, and keeps its schedule
 * GET /metrics  Prometheus text format, Backstop's meters included
 * </pre>
 *
 * Port from {@code $PORT}, default 8080.
 */
public final class ExampleServer {

    private static final Logger LOG = LoggerFactory.getLogger(ExampleServer.class);

    private ExampleServer() {
    }

    public static void main(String[] args) throws Exception {
        String port = System.getenv().getOrDefault("PORT", "8080");
        Server server = start(Integer.parseInt(port.trim()), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        LOG.info("Backstop example listening on http://localhost:{}/ (try /hello, /panic, /fanout?fail=1, /dropped-future, /metrics)",
                ((ServerConnector) server.getConnectors()[0]).getLocalPort());
        server.join();
    }

    /** Starts the example on {@code port} (0 for any free port) and returns the running server. */
    public static Server start(int port, PrometheusMeterRegistry registry) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(port);
        server.addConnector(connector);

        // One Backstop for the whole application: the filter and the executors report through the same pipeline.
        Backstop backstop = Backstop.builder().meterRegistry(registry).build();
        ExecutorService workers = backstop.guard(Executors.newFixedThreadPool(2, daemon("example-worker-")));
        ScheduledExecutorService scheduler = backstop.guard(
                Executors.newSingleThreadScheduledExecutor(daemon("example-scheduler-")));
        scheduler.scheduleWithFixedDelay(new CacheRefresh(), 500, 30_000, TimeUnit.MILLISECONDS);
        server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStopped(LifeCycle event) {
                workers.shutdownNow();
                scheduler.shutdownNow();
            }
        });

        ServletContextHandler context = new ServletContextHandler("/");
        RecoveryFilter recovery = RecoveryFilter.builder().backstop(backstop).build();
        context.addFilter(new FilterHolder(recovery), "/*",
                EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));

        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.setContentType("text/plain;charset=utf-8");
                response.getWriter().write("hello");
            }
        }), "/hello");
        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) {
                throw new IllegalStateException("the example handler failed on purpose");
            }
        }), "/panic");
        context.addServlet(new ServletHolder(new FanOut()), "/fanout");
        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                // The Java trap: a failing task whose future nobody reads. The guarded executor reports it anyway.
                workers.submit(() -> {
                    throw new IllegalStateException("a task whose future was dropped failed on purpose");
                });
                response.setStatus(HttpServletResponse.SC_ACCEPTED);
                response.setContentType("text/plain;charset=utf-8");
                response.getWriter().write("submitted; nobody reads its future, see the log and /metrics");
            }
        }), "/dropped-future");
        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.setContentType("text/plain; version=0.0.4; charset=utf-8");
                response.getWriter().write(registry.scrape());
            }
        }), "/metrics");

        server.setHandler(context);
        server.start();
        return server;
    }

    /**
     * Three child tasks in one group; the first {@code fail} of them panic. A panic is logged once, in the child's
     * thread; {@code await()} throws it to the filter, which answers 500 with the child's error id.
     */
    static final class FanOut extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            int fail = parseFail(request.getParameter("fail"));
            try (ChildTasks tasks = ChildTasks.builder(request).name("fanout").open()) {
                for (int i = 1; i <= 3; i++) {
                    boolean panics = i <= fail;
                    tasks.go("child-" + i, () -> {
                        if (panics) {
                            throw new IllegalStateException("a child of /fanout failed on purpose");
                        }
                    });
                }
                tasks.await();
            }
            response.setContentType("text/plain;charset=utf-8");
            response.getWriter().write("3 children succeeded");
        }

        private static int parseFail(String value) {
            try {
                return value == null ? 0 : Math.max(0, Math.min(3, Integer.parseInt(value.trim())));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
    }

    /** A periodic job that fails on its first run: reported, and, by Backstop's default, still on schedule. */
    static final class CacheRefresh implements Runnable {
        private final AtomicInteger runs = new AtomicInteger();

        @Override
        public void run() {
            if (runs.incrementAndGet() == 1) {
                throw new UncheckedIOException(new IOException("the cache refresh failed on purpose"));
            }
        }
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger sequence = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + sequence.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
