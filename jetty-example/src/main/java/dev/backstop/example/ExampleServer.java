package dev.backstop.example;

import dev.backstop.Backstop;
import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jetty.JettyConnectionMetrics;
import io.micrometer.core.instrument.binder.jetty.JettyServerThreadPoolMetrics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedded Jetty 12 server that walks every path of Backstop with real handlers; {@code GET /} lists them.
 * {@link RecoveryFilter} is registered programmatically here, from a {@link Backstop} shared with a guarded executor
 * and scheduler, and from {@code WEB-INF/web.xml} in the second application at {@code /xml}. Port from
 * {@code $PORT}, default 8080.
 */
public final class ExampleServer {

    /** One line of the index page. */
    record Endpoint(String path, String link, String description) {
    }

    /** Every endpoint, in the order of the index page; {@code ExampleIntegrationTest} drives each one. */
    static final List<Endpoint> ENDPOINTS = List.of(
            new Endpoint("/hello", "/hello", "200 \"hello\": the happy path, untouched by Backstop."),
            new Endpoint("/panic", "/panic", "The handler throws: 500 problem+json with an errorId, one ERROR line."),
            new Endpoint("/panic-after-commit", "/panic-after-commit",
                    "Half a chunked body is sent, then the handler throws: the connection is aborted, never ended "
                            + "cleanly."),
            new Endpoint("/abort", "/abort", "AbortRequestException: the connection is aborted on purpose; not a panic."),
            new Endpoint("/client-abort", "/client-abort",
                    "A slow stream; hang up early (curl --max-time 1) and it is counted as a client abort, no ERROR."),
            new Endpoint("/fanout?fail=N", "/fanout?fail=1",
                    "Three child tasks, N of them panic: 500 with the child's errorId, logged once."),
            new Endpoint("/fanout-failfast", "/fanout-failfast",
                    "Fail-fast group: one child fails at once, its 10-second sibling is cancelled; 500 at once."),
            new Endpoint("/async-fanout?fail=N", "/async-fanout?fail=1",
                    "An async servlet answers from completion(); no container thread waits."),
            new Endpoint("/background", "/background",
                    "202 at once; a detached audit task fails afterwards and is logged and counted."),
            new Endpoint("/leak", "/leak",
                    "The handler forgets its group: Backstop cancels the child and logs the leak at WARN."),
            new Endpoint("/dropped-future", "/dropped-future",
                    "A guarded executor's task fails and nobody reads its future: reported anyway."),
            new Endpoint("/xml/panic", "/xml/panic", "The same filter registered from WEB-INF/web.xml (context /xml)."),
            new Endpoint("/metrics", "/metrics", "Prometheus: Backstop's meters next to Jetty's and the JVM's."));

    /** The ServletContext attribute that web.xml's {@code meter-registry-attribute} names. */
    static final String REGISTRY_ATTRIBUTE = "backstop.example.registry";

    private static final Logger LOG = LoggerFactory.getLogger(ExampleServer.class);

    private ExampleServer() {
    }

    public static void main(String[] args) throws Exception {
        String port = System.getenv().getOrDefault("PORT", "8080");
        Server server = start(Integer.parseInt(port.trim()), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        LOG.info("Backstop example listening on http://localhost:{}/ (the index lists every endpoint)",
                ((ServerConnector) server.getConnectors()[0]).getLocalPort());
        server.join();
    }

    /** Starts the example on {@code port} (0 for any free port) and returns the running server. */
    public static Server start(int port, PrometheusMeterRegistry registry) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setPort(port);
        server.addConnector(connector);
        bindJvmAndJettyMetrics(server, registry);

        // One Backstop for the application: the filter and the executors report through the same pipeline. It is
        // named after the application's context path, as the /xml application's filter names the Backstop it builds.
        Backstop backstop = Backstop.builder().meterRegistry(registry).name("/").build();
        ExecutorService workers = backstop.guard(Executors.newFixedThreadPool(2, daemon("example-worker-")));
        ScheduledExecutorService scheduler = backstop.guard(
                Executors.newSingleThreadScheduledExecutor(daemon("example-scheduler-")));
        scheduler.scheduleWithFixedDelay(new CacheRefresh(), 500, 30_000, TimeUnit.MILLISECONDS);
        server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStopped(LifeCycle event) {
                workers.shutdownNow();
                scheduler.shutdownNow();
                backstop.close();
            }
        });

        ServletContextHandler root = new ServletContextHandler("/");
        EnumSet<DispatcherType> dispatches = EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC,
                DispatcherType.ERROR);
        root.addFilter(new FilterHolder(new RequestIdFilter()), "/*", dispatches);
        root.addFilter(new FilterHolder(RecoveryFilter.builder().backstop(backstop).build()), "/*", dispatches);
        root.addServlet(new ServletHolder(new Index()), "");
        root.addServlet(new ServletHolder(new Demos.Hello()), "/hello");
        root.addServlet(new ServletHolder(new Demos.Panic()), "/panic");
        root.addServlet(new ServletHolder(new Demos.PanicAfterCommit()), "/panic-after-commit");
        root.addServlet(new ServletHolder(new Demos.Abort()), "/abort");
        root.addServlet(new ServletHolder(new Demos.ClientAbort()), "/client-abort");
        root.addServlet(new ServletHolder(new Demos.FanOut()), "/fanout");
        root.addServlet(new ServletHolder(new Demos.FanOutFailFast()), "/fanout-failfast");
        ServletHolder async = new ServletHolder(new Demos.AsyncFanOut());
        async.setAsyncSupported(true);
        root.addServlet(async, "/async-fanout");
        root.addServlet(new ServletHolder(new Demos.Background()), "/background");
        root.addServlet(new ServletHolder(new Demos.Leak()), "/leak");
        root.addServlet(new ServletHolder(new Demos.DroppedFuture(workers)), "/dropped-future");
        root.addServlet(new ServletHolder(new Metrics(registry)), "/metrics");

        WebAppContext xml = new WebAppContext();
        xml.setContextPath("/xml");
        xml.setBaseResource(ResourceFactory.of(xml).newClassLoaderResource("webapp"));
        xml.setParentLoaderPriority(true);
        xml.setThrowUnavailableOnStartupException(true);
        xml.setAttribute(REGISTRY_ATTRIBUTE, registry);

        server.setHandler(new ContextHandlerCollection(root, xml));
        server.start();
        return server;
    }

    private static void bindJvmAndJettyMetrics(Server server, PrometheusMeterRegistry registry) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStopped(LifeCycle event) {
                gc.close();
            }
        });
        new JettyServerThreadPoolMetrics(server.getThreadPool(), Tags.empty()).bindTo(registry);
        JettyConnectionMetrics.addToAllConnectors(server, registry);
    }

    /** {@code /}: the index page, one line per endpoint. */
    static final class Index extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            StringBuilder html = new StringBuilder(4096).append("""
                    <!DOCTYPE html>
                    <html lang="en"><head><meta charset="utf-8"><title>Backstop example</title>
                    <style>body{font-family:sans-serif;max-width:54em;margin:2em auto}td{padding:.3em .8em}\
                    code{white-space:nowrap}</style></head>
                    <body><h1>Backstop example</h1>
                    <p>Every path of Backstop, with a real handler. Watch the server's log and <a href="/metrics">\
                    /metrics</a> as you click.</p>
                    <table>
                    """);
            for (Endpoint endpoint : ENDPOINTS) {
                html.append("<tr><td><a href=\"").append(endpoint.link()).append("\"><code>")
                        .append(endpoint.path()).append("</code></a></td><td>").append(escape(endpoint.description()))
                        .append("</td></tr>\n");
            }
            html.append("</table></body></html>\n");
            response.setContentType("text/html;charset=utf-8");
            response.getWriter().write(html.toString());
        }

        private static String escape(String text) {
            return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        }
    }

    /** {@code /metrics}: the Prometheus text exposition. */
    static final class Metrics extends HttpServlet {
        private static final long serialVersionUID = 1L;

        private final transient PrometheusMeterRegistry registry;

        Metrics(PrometheusMeterRegistry registry) {
            this.registry = registry;
        }

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain; version=0.0.4; charset=utf-8");
            response.getWriter().write(registry.scrape());
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
