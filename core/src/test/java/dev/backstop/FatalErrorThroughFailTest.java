package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.AsyncContext;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A fatal error handed to {@code RecoveryFilter.fail} is reported and answered at once (a bare 500, the async cycle
 * completed), not left for the async timeout.
 */
class FatalErrorThroughFailTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @ParameterizedTest
    @EnumSource(Container.class)
    void aFatalErrorHandedToFailEndsTheRequestPromptly(Container container) throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/work", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    async.setTimeout(60_000);
                    CompletableFuture.runAsync(() ->
                            assertThatCode(() -> RecoveryFilter.fail(async, new OutOfMemoryError("simulated")))
                                    .doesNotThrowAnyException());
                })
                .start();

        CompletableFuture<HttpResponse<String>> response = HttpClient.newHttpClient().sendAsync(
                HttpRequest.newBuilder(server.uri("/work")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());

        // Reported at once...
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> harness.total("backstop.panics") == 1.0);
        // ...and then the client should not be left waiting for the 60 s async timeout.
        boolean answered;
        try {
            response.get(10, TimeUnit.SECONDS);
            answered = true;
        } catch (java.util.concurrent.TimeoutException stillWaiting) {
            answered = false;
        } catch (java.util.concurrent.ExecutionException aborted) {
            answered = true; // an aborted connection is an answer too
        }
        assertThat(answered).as("the client got a 500 or an abort within 10 s of the fatal error").isTrue();
    }
}
