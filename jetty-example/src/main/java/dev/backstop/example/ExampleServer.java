package dev.backstop.example;

import dev.backstop.ChildTasks;
import dev.backstop.RecoveryFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small embedded Jetty 12 server with {@link RecoveryFilter} installed programmatically.
 *
 * <pre>
 * GET /hello    200 "hello"
 * GET /panic    the handler throws; Backstop answers 500 problem+json and logs the error id
 * GET /fanout?fail=N  three child tasks, the first N of them panic; any failure answers 500 with the child's id
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
        LOG.info("Backstop example listening on http://localhost:{}/ (try /hello, /panic, /fanout?fail=1, /metrics)",
                ((ServerConnector) server.getConnectors()[0]).getLocalPort());
        server.join();
    }

    /** Starts the example on {@code port} (0 for any free port) and returns the running server. */
    public static Server start(int port, PrometheusMeterRegistry registry) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(port);
        server.addConnector(connector);

        ServletContextHandler context = new ServletContextHandler("/");
        RecoveryFilter recovery = RecoveryFilter.builder().meterRegistry(registry).build();
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
}
