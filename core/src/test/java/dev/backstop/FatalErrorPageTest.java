package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

/**
 * A fatal error escaping a handler before anything was committed gets a bare, empty 500, never the container's error
 * page with the error's class and message, and none of the headers the handler had set.
 */
class FatalErrorPageTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @Test
    void aFatalErrorGetsABare500NotTheContainersPage() throws Exception {
        ServletServer server = harness.server(Container.JETTY, harness.filter().build())
                .route("/fatal", (request, response) -> {
                    response.setHeader("X-Session-Token", "tok-42");
                    throw new OutOfMemoryError("cache of user 4711 exhausted the heap");
                })
                .start();

        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/fatal"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body()).as("body").doesNotContain("4711").doesNotContain("OutOfMemoryError");
        assertThat(response.headers().firstValue("X-Session-Token")).as("the handler's header").isEmpty();
    }
}
