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
 * {@code RecoveryFilter.fail} after the request is over (its async timeout fired first, the everyday race with a slow
 * downstream) does not throw, and the failure is not lost: it is logged with its stack and an error id.
 */
class LateAsyncFailTest {

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
        // Nothing of the request is left to tell which Backstop would count it (RecoveryFilter.fail is static and
        // the container no longer hands out the request): the failure is logged, with its stack and an error id,
        // and said to be uncounted.
        assertThat(harness.errors()).anySatisfy(line -> {
            assertThat(line.getFormattedMessage()).contains("downstream failed after the timeout")
                    .containsPattern("errorId=[0-9a-f]{16}").contains("not counted");
            assertThat(line.getThrowableProxy()).isNotNull();
        });
    }
}
