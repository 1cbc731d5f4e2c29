package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import jakarta.servlet.AsyncContext;
import java.lang.ref.WeakReference;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A background task holds only what it logs of its request (method and path), not the request's context: a request that
 * started a long background task and then failed does not keep its failure (and whatever the failure holds) alive
 * until the task ends.
 */
class BackgroundTaskRetentionTest {

    @RegisterExtension
    final Harness harness = new Harness();

    /** A failure that carries the request's payload, as validation and parsing failures do. */
    static final class PayloadRejected extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final byte[] payload = new byte[16 * 1024 * 1024];

        PayloadRejected() {
            super("payload rejected");
        }
    }

    @Test
    void aBackgroundTaskDoesNotKeepItsRequestsFailureAlive() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        harness.closeAfter(release::countDown);
        CountDownLatch running = new CountDownLatch(1);
        AtomicReference<WeakReference<Throwable>> thrown = new AtomicReference<>();
        TestServer server = harness.jetty().route("/upload", (request, response) -> {
            ChildTasks.background(request, "archive", () -> {
                running.countDown();
                release.await();
            });
            // The failure reaches Backstop through RecoveryFilter.fail from a thread that then ends, never thrown on
            // a container thread: in a long test run a pooled container thread was seen to keep the last exception
            // it handled reachable for a while (no Java object referred to it), which would make this test flaky.
            AsyncContext async = request.startAsync();
            Thread validator = new Thread(() -> {
                PayloadRejected failure = new PayloadRejected();
                thrown.set(new WeakReference<>(failure));
                RecoveryFilter.fail(async, failure);
            });
            validator.start();
            validator.join();
        }).start();

        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(server.uri("/upload")).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        harness.logs().clear(); // the captured log event holds the throwable; production appenders do not

        boolean collected;
        try {
            await().atMost(Duration.ofSeconds(10)).pollInSameThread().pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        System.gc();
                        return thrown.get().get() == null;
                    });
            collected = true;
        } catch (ConditionTimeoutException stillReachable) {
            collected = false;
        }
        assertThat(collected).as("the request's failure is garbage once the request is over, while its background "
                + "task still runs").isTrue();
    }
}
