package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.AsyncContext;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Review 12: {@code RecoveryFilter.fail(async, failure)} is documented "Never throws" and "reported once". When the
 * async work fails after the container has already ended the cycle (its timeout fired first: a slow downstream that
 * then fails, the everyday race), {@code fail} throws the container's IllegalStateException from
 * {@code async.getRequest()} (RecoveryFilter.java, {@code fail}: the first lines, before anything is reported) and the
 * failure is never logged or counted: a panic lost. The same happens when {@code fail} races {@code onComplete}: the
 * attribute is gone and {@code Recovery.of} answers "needs a request that passed through RecoveryFilter", which it
 * did. A panic that can no longer be answered must still be reported.
 */
class Review12LateAsyncFailTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @ParameterizedTest
    @EnumSource(Container.class)
    void aFailureAfterTheAsyncTimeoutIsStillReported(Container container) throws Exception {
        AtomicReference<AsyncContext> asyncRef = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/slow", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    async.setTimeout(200); // the downstream call takes longer than the request may
                    asyncRef.set(async);
                    started.countDown();
                })
                .start();

        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/slow"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(response.statusCode()).isEqualTo(500); // the container's timeout answer

        // Then the downstream call fails, on the application's thread, and the application hands it to Backstop.
        IllegalStateException late = new IllegalStateException("downstream failed after the timeout");
        CompletableFuture<Throwable> thrown = CompletableFuture.supplyAsync(() -> {
            try {
                RecoveryFilter.fail(asyncRef.get(), late);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });

        assertThat(thrown.get(10, TimeUnit.SECONDS)).as("what RecoveryFilter.fail threw").isNull();
        assertThat(harness.count("backstop.panics", "exception", "IllegalStateException"))
                .as("the late failure, counted").isEqualTo(1.0);
        assertThat(harness.errors()).anySatisfy(line ->
                assertThat(line.getFormattedMessage()).contains("downstream failed after the timeout"));
    }
}
