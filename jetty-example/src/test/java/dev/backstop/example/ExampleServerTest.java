package dev.backstop.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The README's walk-through, done by a test: /hello, /panic, then the panic on /metrics. */
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
}
