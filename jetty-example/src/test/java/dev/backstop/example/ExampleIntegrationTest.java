package dev.backstop.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.backstop.RecoveryFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ajax.JSON;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

/**
 * The example as a new user meets it: started on a free port, every endpoint of the index page driven once, then
 * the statuses, bodies, log lines and {@code /metrics} samples they left checked, and the Grafana dashboard's
 * queries checked against that real scrape; then the dashboard's import input, variables and filters.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExampleIntegrationTest {

    private final HttpClient client = HttpClient.newHttpClient();
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private final Logger backstopLogger = (Logger) LoggerFactory.getLogger("dev.backstop");
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private Server server;
    private int port;

    @BeforeAll
    void start() throws Exception {
        events.start();
        backstopLogger.addAppender(events);
        server = ExampleServer.start(0, registry);
        port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    @AfterAll
    void stop() throws Exception {
        server.stop();
        backstopLogger.detachAppender(events);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private List<ILoggingEvent> errors() {
        synchronized (events.list) {
            return events.list.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
        }
    }

    private String errorIdOf(HttpResponse<String> response) {
        Matcher id = Pattern.compile("\"errorId\":\"([0-9a-f]{16})\"").matcher(response.body());
        assertThat(id.find()).as("errorId in %s", response.body()).isTrue();
        return id.group(1);
    }

    /** The single ERROR event logged with {@code errorId}. */
    private ILoggingEvent loggedWith(String errorId) {
        List<ILoggingEvent> logged = errors().stream()
                .filter(e -> errorId.equals(e.getMDCPropertyMap().get("errorId"))).toList();
        assertThat(logged).hasSize(1);
        return logged.get(0);
    }

    /** What a raw socket receives for {@code GET path}, read until the server ends or aborts the connection. */
    private String raw(String path) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[4096];
            try {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    received.write(buffer, 0, n);
                }
            } catch (SocketException reset) {
                // An aborted connection may end in a reset instead of a FIN: what arrived before it still counts.
            }
            return received.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    @Order(1)
    void theIndexPageLinksEveryEndpointWithItsExplanation() throws Exception {
        HttpResponse<String> index = get("/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/html"));
        for (ExampleServer.Endpoint endpoint : ExampleServer.ENDPOINTS) {
            assertThat(index.body()).contains("<a href=\"" + endpoint.link() + "\"><code>" + endpoint.path());
        }
    }

    @Test
    @Order(2)
    void everyEndpointBehavesAsItsLineSaysAndMetricsShowIt() throws Exception {
        HttpResponse<String> hello = get("/hello");
        assertThat(hello.statusCode()).isEqualTo(200);
        assertThat(hello.body()).isEqualTo("hello");
        assertThat(hello.headers().firstValue("X-Request-Id")).isPresent();

        HttpResponse<String> panic = get("/panic");
        assertThat(panic.statusCode()).isEqualTo(500);
        assertThat(panic.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(loggedWith(errorIdOf(panic)).getFormattedMessage()).contains("source=handler", "path=/panic ");
        assertThat(loggedWith(errorIdOf(panic)).getMDCPropertyMap()).containsKey("requestId");

        String afterCommit = raw("/panic-after-commit");
        assertThat(afterCommit).startsWith("HTTP/1.1 200").contains("first half of the report")
                .as("an aborted chunked body never gets its last chunk").doesNotContain("\r\n0\r\n\r\n");

        assertThat(raw("/abort")).as("aborted before any byte").isEmpty();

        hangUpDuringTheSlowStream();

        assertThat(get("/fanout?fail=0").body()).isEqualTo("3 children succeeded");
        HttpResponse<String> fanout = get("/fanout?fail=1");
        assertThat(fanout.statusCode()).isEqualTo(500);
        assertThat(loggedWith(errorIdOf(fanout)).getFormattedMessage())
                .contains("source=child", "group=fanout", "task=child-1");

        long start = System.nanoTime();
        HttpResponse<String> failFast = get("/fanout-failfast");
        assertThat(failFast.statusCode()).isEqualTo(500);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the 10 s sibling was cancelled")
                .isLessThan(Duration.ofSeconds(5));
        assertThat(loggedWith(errorIdOf(failFast)).getFormattedMessage()).contains("task=quick-failure");

        assertThat(get("/async-fanout").body()).isEqualTo("3 children succeeded (async)");
        HttpResponse<String> asyncFailure = get("/async-fanout?fail=1");
        assertThat(asyncFailure.statusCode()).isEqualTo(500);
        // The same child failure as /fanout's, from the same code, within the log-storm interval: counted and answered
        // with its own id, and logged on a short line of its own without a second stack, pointing at the first.
        String folded = errorIdOf(asyncFailure);
        assertThat(loggedWith(folded)).satisfies(line -> {
            assertThat(line.getFormattedMessage()).contains("path=/async-fanout", "folded=true stackLoggedAs=");
            assertThat(line.getThrowableProxy()).isNull();
        });
        assertThat(get("/metrics").body()).contains("backstop_folded_lines_total{source=\"child\"} 1.0");

        HttpResponse<String> background = get("/background");
        assertThat(background.statusCode()).isEqualTo(202);
        assertThat(background.body()).startsWith("accepted");

        HttpResponse<String> leak = get("/leak");
        assertThat(leak.statusCode()).isEqualTo(200);
        assertThat(leak.body()).isEqualTo("returned without closing the group");

        HttpResponse<String> dropped = get("/dropped-future");
        assertThat(dropped.statusCode()).isEqualTo(202);

        HttpResponse<String> xml = get("/xml/panic");
        assertThat(xml.statusCode()).isEqualTo(500);
        assertThat(loggedWith(errorIdOf(xml)).getFormattedMessage()).contains("path=/xml/panic",
                "java.lang.UnsupportedOperationException");

        // Background failure, dropped future, periodic failure and client abort happen off the request: wait.
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(get("/metrics").body()).contains(
                "backstop_panics_total{exception=\"IOException\",source=\"background\"} 1.0",
                "backstop_panics_total{exception=\"IllegalStateException\",source=\"executor\"} 1.0",
                "backstop_panics_total{exception=\"UncheckedIOException\",source=\"executor\"} 1.0")
                .containsPattern("backstop_client_aborts_total\\{exception=\"\\w+\",source=\"handler\"} 1.0"));

        String metrics = get("/metrics").body();
        assertThat(metrics).contains(
                "backstop_panics_total{exception=\"IllegalStateException\",source=\"handler\"} 2.0",
                "backstop_panics_total{exception=\"UnsupportedOperationException\",source=\"handler\"} 1.0",
                "backstop_panics_total{exception=\"IllegalStateException\",source=\"child\"} 3.0",
                "backstop_responses_total{outcome=\"error\",reason=\"panic\"} 5.0",
                "backstop_responses_total{outcome=\"aborted\",reason=\"panic\"} 1.0",
                "backstop_responses_total{outcome=\"aborted\",reason=\"abort_request\"} 1.0",
                "backstop_tasks_total{kind=\"scoped\",outcome=\"success\"} 10.0",
                "backstop_tasks_total{kind=\"scoped\",outcome=\"panic\"} 3.0",
                "backstop_tasks_total{kind=\"scoped\",outcome=\"cancelled\"} 2.0",
                "backstop_tasks_total{kind=\"background\",outcome=\"failure\"} 1.0",
                "backstop_tasks_active_tasks{backstop=\"/\",kind=\"scoped\"} 0.0",
                "backstop_tasks_active_tasks{backstop=\"/xml\",kind=\"scoped\"} 0.0",
                "backstop_leaked_groups_total 1.0",
                "jetty_threads_busy ",
                "jvm_threads_live_threads ",
                "jetty_connections_current_connections{");
        assertThat(errors()).as("one ERROR per panic (3 handler, 3 child, 1 background, 2 executor)").hasSize(9);
        assertThat(errors()).as("with a stack: all but the folded one")
                .filteredOn(line -> line.getThrowableProxy() != null).hasSize(8);
    }

    /** Last: it drives the endpoints again, which would change the exact counts above. */
    @Test
    @Order(3)
    void everyMetricTheDashboardQueriesIsInARealScrape() throws Exception {
        everyEndpointIsDriven();
        String scrape = get("/metrics").body();
        Set<String> exported = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                exported.add(line.split("[{ ]", 2)[0]);
            }
        }
        Set<String> queried = dashboardMetricNames();
        assertThat(queried).as("the dashboard queries Backstop's meters").anyMatch(n -> n.startsWith("backstop_"))
                .hasSizeGreaterThanOrEqualTo(5);
        assertThat(exported).as("metrics the dashboard queries but /metrics does not export")
                .containsAll(queried);
    }

    /** Grafana's import dialog asks for the Prometheus data source, and the {@code datasource} variable starts there. */
    @Test
    @Order(5)
    void theDashboardAsksForItsDataSourceOnImport() throws IOException {
        Json dashboard = dashboard();
        List<Json> inputs = maps(dashboard.get("__inputs"));
        assertThat(inputs).as("__inputs").singleElement().satisfies(input -> assertThat(input)
                .containsEntry("name", "DS_PROMETHEUS").containsEntry("type", "datasource")
                .containsEntry("pluginId", "prometheus"));
        assertThat(maps(dashboard.get("__requires"))).as("__requires")
                .anySatisfy(r -> assertThat(r).containsEntry("type", "datasource").containsEntry("id", "prometheus"))
                .anySatisfy(r -> assertThat(r).containsEntry("type", "grafana"));
        Json datasource = variable(dashboard, "datasource");
        assertThat(datasource).containsEntry("type", "datasource").containsEntry("query", "prometheus");
        assertThat(new Json(datasource.get("current"))).as("the data source chosen on import")
                .containsEntry("value", "${DS_PROMETHEUS}");
    }

    /** {@code job} and {@code instance} pick the services to show, from a series Backstop exports from the start. */
    @Test
    @Order(6)
    void theDashboardHasJobAndInstanceVariables() throws IOException {
        Json dashboard = dashboard();
        Json job = variable(dashboard, "job");
        Json instance = variable(dashboard, "instance");
        for (Json variable : List.of(job, instance)) {
            assertThat(variable).containsEntry("type", "query").containsEntry("multi", true)
                    .containsEntry("includeAll", true);
            assertThat(dataSourceUid(variable)).as("%s's data source", variable.get("name"))
                    .isEqualTo("${datasource}");
        }
        assertThat(job.get("query")).isEqualTo("label_values(backstop_tasks_active_tasks, job)");
        assertThat(instance.get("query")).as("instances of the chosen jobs")
                .isEqualTo("label_values(backstop_tasks_active_tasks{job=~\"$job\"}, instance)");
    }

    /**
     * Every panel reads the chosen data source, and every series every panel selects is filtered by the chosen jobs
     * and instances; nothing is specific to one container, and internal failures have a row and a panel.
     */
    @Test
    @Order(7)
    void everyPanelQueriesTheChosenDataSourceJobsAndInstances() throws IOException {
        List<Json> panels = panels(dashboard());
        assertThat(panels).isNotEmpty();
        Pattern selector = Pattern.compile("\\b((?:backstop|jetty|tomcat|jvm|process|system)_[a-zA-Z0-9_]+)"
                + "(\\{[^}]*})?");
        List<String> expressions = new ArrayList<>();
        for (Json panel : panels) {
            assertThat(dataSourceUid(panel)).as("data source of panel %s", panel.get("title"))
                    .isEqualTo("${datasource}");
            for (Json target : maps(panel.get("targets"))) {
                assertThat(dataSourceUid(target)).as("data source of a query of %s", panel.get("title"))
                        .isEqualTo("${datasource}");
                String expr = (String) target.get("expr");
                assertThat(expr).as("a query of %s", panel.get("title")).isNotBlank();
                expressions.add(expr);
                Matcher m = selector.matcher(expr);
                int selectors = 0;
                while (m.find()) {
                    selectors++;
                    assertThat(m.group(1)).as("container-specific series in %s", expr)
                            .doesNotStartWith("jetty_").doesNotStartWith("tomcat_");
                    assertThat(m.group(2)).as("labels of %s in %s", m.group(1), expr).isNotNull()
                            .contains("job=~\"$job\"", "instance=~\"$instance\"");
                }
                assertThat(selectors).as("series selected by %s", expr).isPositive();
            }
        }
        assertThat(expressions).as("a panel charts backstop_internal_failures_total")
                .anyMatch(e -> e.contains("backstop_internal_failures_total"));
        assertThat(panels).as("a row for internal failures").anySatisfy(panel -> {
            assertThat(panel.get("type")).isEqualTo("row");
            assertThat((String) panel.get("title")).containsIgnoringCase("internal failures");
        });
    }

    /** A JSON object as Jetty's parser gives it. */
    @SuppressWarnings("serial")
    private static final class Json extends HashMap<String, Object> {
        Json(Object parsed) {
            ((Map<?, ?>) parsed).forEach((key, value) -> put((String) key, value));
        }
    }

    private static Json dashboard() throws IOException {
        return new Json(new JSON().fromJSON(Files.readString(Path.of("..", "src", "dashboards", "backstop.json"))));
    }

    private static Json variable(Json dashboard, String name) {
        List<Json> named = maps(new Json(dashboard.get("templating")).get("list")).stream()
                .filter(v -> name.equals(v.get("name"))).toList();
        assertThat(named).as("the variable %s", name).hasSize(1);
        return named.get(0);
    }

    /** The dashboard's panels, rows included, and the panels of collapsed rows. */
    private static List<Json> panels(Json dashboard) {
        List<Json> all = new ArrayList<>();
        for (Json panel : maps(dashboard.get("panels"))) {
            all.add(panel);
            all.addAll(maps(panel.get("panels")));
        }
        return all;
    }

    private static String dataSourceUid(Json node) {
        return node.get("datasource") instanceof Map<?, ?> ds ? (String) ds.get("uid") : null;
    }

    private static List<Json> maps(Object array) {
        List<Json> maps = new ArrayList<>();
        if (array instanceof Object[] items) {
            for (Object item : items) {
                maps.add(new Json(item));
            }
        }
        return maps;
    }

    /**
     * The example accepts a client's {@code X-Request-Id} for correlation only when it is short and plain
     * ({@code [A-Za-z0-9-]{1,64}}); anything else is replaced by a fresh id before it is logged or echoed.
     */
    @Test
    @Order(4)
    void aClientRequestIdIsEchoedOnlyWhenItIsValid() throws Exception {
        assertThat(withRequestId("order-42-retry").headers().firstValue("X-Request-Id")).hasValue("order-42-retry");
        for (String hostile : List.of("a".repeat(65), "a b", "x\";DROP", "<script>", "id~tilde", "%0d%0aSet-Cookie")) {
            HttpResponse<String> response = withRequestId(hostile);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("X-Request-Id")).as("for %s", hostile)
                    .hasValueSatisfying(id -> assertThat(id).isNotEqualTo(hostile).matches("[0-9a-f]{1,16}"));
        }
    }

    private HttpResponse<String> withRequestId(String id) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello"))
                .header("X-Request-Id", id).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The metric names in every PromQL expression of the dashboard (panels, rows' panels and templating). */
    static Set<String> dashboardMetricNames() throws IOException {
        Path file = Path.of("..", "src", "dashboards", "backstop.json");
        Object dashboard = new JSON().fromJSON(Files.readString(file));
        Set<String> expressions = new TreeSet<>();
        collect(dashboard, expressions);
        assertThat(expressions).as("PromQL expressions in %s", file).isNotEmpty();
        Set<String> names = new TreeSet<>();
        Pattern metric = Pattern.compile("\\b((?:backstop|jetty|jvm|process|system)_[a-zA-Z0-9_]+)");
        for (String expr : expressions) {
            Matcher m = metric.matcher(expr);
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    private static void collect(Object node, Set<String> expressions) {
        if (node instanceof Map<?, ?> map) {
            map.forEach((key, value) -> {
                if (("expr".equals(key) || "query".equals(key)) && value instanceof String expr) {
                    expressions.add(expr);
                } else {
                    collect(value, expressions);
                }
            });
        } else if (node instanceof Object[] array) {
            for (Object item : array) {
                collect(item, expressions);
            }
        } else if (node instanceof Iterable<?> items) {
            items.forEach(item -> collect(item, expressions));
        }
    }

    /** Starts {@code /client-abort} and closes the socket once its first bytes arrive. */
    private void hangUpDuringTheSlowStream() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write("GET /client-abort HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(socket.getInputStream().read(new byte[256])).isPositive(); // streaming has begun: hang up
        }
    }

    /** Makes sure the lazily registered series exist before the dashboard is checked, whatever the test order. */
    private void everyEndpointIsDriven() throws Exception {
        for (ExampleServer.Endpoint endpoint : ExampleServer.ENDPOINTS) {
            if (endpoint.path().equals("/client-abort")) {
                hangUpDuringTheSlowStream();
                continue;
            }
            try {
                get(endpoint.link());
            } catch (IOException abortedOnPurpose) {
                // /panic-after-commit and /abort end in an aborted connection: that is their point.
            }
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            String scrape = get("/metrics").body();
            return scrape.contains("source=\"background\"") && scrape.contains("source=\"executor\"")
                    && scrape.contains("backstop_client_aborts_total{");
        });
        if (!get("/metrics").body().contains("backstop_internal_failures_total")) {
            failAnErrorResponder();
        }
    }

    /**
     * Makes {@code backstop_internal_failures_total} exist in the example's registry where Backstop registers it on
     * first use: one request through a filter whose {@link dev.backstop.ErrorResponder} throws, in a context of its
     * own that reports to the same registry.
     */
    private void failAnErrorResponder() throws Exception {
        Server broken = new Server(0);
        ServletContextHandler context = new ServletContextHandler("/broken-responder");
        context.addFilter(new FilterHolder(RecoveryFilter.builder().meterRegistry(registry)
                .uncaughtExceptionHandler(false)
                .errorResponder((request, response, failure) -> {
                    throw new IllegalStateException("this ErrorResponder is broken on purpose");
                }).build()), "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) {
                throw new IllegalStateException("a panic for the broken ErrorResponder to answer");
            }
        }), "/*");
        broken.setHandler(context);
        broken.start();
        try {
            int brokenPort = ((ServerConnector) broken.getConnectors()[0]).getLocalPort();
            HttpResponse<String> answered = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + brokenPort + "/broken-responder/panic"))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answered.statusCode()).as("answered all the same").isEqualTo(500);
        } finally {
            broken.stop();
        }
        assertThat(get("/metrics").body()).contains("backstop_internal_failures_total{stage=\"respond\"} 1.0");
    }
}
