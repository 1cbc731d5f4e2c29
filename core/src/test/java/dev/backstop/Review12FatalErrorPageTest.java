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
 * Review 12: DESIGN.md, "Fatal VirtualMachineErrors other than StackOverflowError: logged and counted, a safe bare 500
 * committed (or the connection aborted), then rethrown; never the container's page with the error's text." The
 * FATAL branch of {@code Recovery.handle} rethrows at once, with no {@code commitBareError} (which the committed-panic
 * path has), so an uncommitted response goes to the container's error handling, which writes its own page with the
 * error's class and message and keeps the headers the handler had set. On Jetty the client gets Jetty's HTML page
 * with {@code java.lang.OutOfMemoryError: <message>}. (On Tomcat a real OutOfMemoryError closes the connection
 * without a byte, which the contract allows; another VirtualMachineError, such as an InternalError, leaves the client
 * waiting until its own timeout: Tomcat rethrows it out of the processor.)
 */
class Review12FatalErrorPageTest {

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
