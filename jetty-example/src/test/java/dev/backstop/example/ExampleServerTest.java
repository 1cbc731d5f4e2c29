package dev.backstop.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The README's walk-through, done by a test: /hello, /panic, /fanout, then the panics on /metrics. */
class ExampleServerTest {

    private final HttpClient client = HttpClient.newHttpClient();
    private Server server;
    private int port;

    @BeforeEach
    void start() throws Exception {
        server = ExampleServer.start(0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void helloPanicAndMetrics() throws Exception {
        HttpResponse<String> hello = get("/hello");
        assertThat(hello.statusCode()).isEqualTo(200);
        assertThat(hello.body()).isEqualTo("hello");

        HttpResponse<String> panic = get("/panic");
        assertThat(panic.statusCode()).isEqualTo(500);
        assertThat(panic.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(panic.body()).matches(
                "\\{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500,"
                        + "\"errorId\":\"[0-9a-f]{16}\"}");

        String metrics = get("/metrics").body();
        assertThat(metrics).contains(
                "backstop_panics_total{exception=\"IllegalStateException\",source=\"handler\"} 1.0",
                "backstop_responses_total{outcome=\"error\",reason=\"panic\"} 1.0",
                "# HELP backstop_panics_total ");
    }

    @Test
    void fanoutWithOneFailingChildAnswers500WithTheChildsErrorIdLoggedOnce() throws Exception {
        Logger backstop = (Logger) LoggerFactory.getLogger("dev.backstop");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        backstop.addAppender(events);
        HttpResponse<String> fanout;
        try {
            assertThat(get("/fanout?fail=0").body()).isEqualTo("3 children succeeded");
            fanout = get("/fanout?fail=1");
        } finally {
            backstop.detachAppender(events);
        }
        assertThat(fanout.statusCode()).isEqualTo(500);
        String errorId = fanout.body().replaceAll(".*\"errorId\":\"([0-9a-f]{16})\".*", "$1");
        var errors = events.list.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage()).startsWith("panic errorId=" + errorId + " source=child")
                .contains("path=/fanout", "group=fanout", "task=child-1");

        String metrics = get("/metrics").body();
        assertThat(metrics).contains(
                "backstop_panics_total{exception=\"IllegalStateException\",source=\"child\"} 1.0",
                "backstop_tasks_total{kind=\"scoped\",outcome=\"panic\"} 1.0",
                "backstop_tasks_total{kind=\"scoped\",outcome=\"success\"} 5.0",
                "backstop_tasks_active_tasks{kind=\"scoped\"} 0.0");
        assertThat(metrics).doesNotContain("source=\"handler\"");
    }

    @Test
    void aDroppedFutureAndAFailingPeriodicTaskShowUpAsExecutorPanics() throws Exception {
        HttpResponse<String> dropped = get("/dropped-future");
        assertThat(dropped.statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get("/metrics").body()).contains(
                "backstop_panics_total{exception=\"IllegalStateException\",source=\"executor\"} 1.0",
                "backstop_panics_total{exception=\"UncheckedIOException\",source=\"executor\"} 1.0"));
    }
}
