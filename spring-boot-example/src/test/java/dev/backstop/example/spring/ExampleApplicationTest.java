package dev.backstop.example.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/** One smoke test of the tour (the starter's own tests cover the behaviour): one context, a few requests. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ExampleApplicationTest {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @LocalServerPort
    int port;

    @Test
    void theTourAnswersAndCounts() throws Exception {
        HttpResponse<String> panic = get("/panic");
        HttpResponse<String> fanout = get("/fanout?fail=1");
        HttpResponse<String> fine = get("/fanout");
        get("/async");

        assertThat(panic.statusCode()).isEqualTo(500);
        assertThat(panic.body()).contains("\"errorId\"");
        assertThat(fanout.statusCode()).isEqualTo(500);
        assertThat(fine.body()).isEqualTo("inventory ok, pricing ok, reviews ok\n");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get("/actuator/prometheus").body())
                .contains("backstop_panics_total{exception=\"IllegalStateException\",source=\"handler\"} 1.0")
                .contains("backstop_panics_total{exception=\"IllegalStateException\",source=\"child\"} 1.0")
                .contains("backstop_panics_total{exception=\"IllegalStateException\",source=\"executor\"} 1.0")
                .contains("backstop_panics_total{exception=\"UncheckedIOException\",source=\"executor\"} 1.0"));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
