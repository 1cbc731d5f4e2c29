package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
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
 * Review 12: a background task keeps the whole {@code RequestContext} of the request that started it (TaskRun's
 * {@code request} field, used only for the method and path of its log lines), and with it the request's report
 * chain: up to 32 {@code Report}s and 32 handled throwables, with everything they reference. A request that started
 * a long background task (an upload, an audit write behind a slow store) and then failed keeps its failure alive until
 * the task ends. Failures often carry what the request carried (a rejected payload, a parsed document); under an
 * incident every failing request pins its own.
 */
class Review12BackgroundRetentionTest {

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
            PayloadRejected failure = new PayloadRejected();
            thrown.set(new WeakReference<>(failure));
            throw failure;
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
