package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Blocking;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.AsyncContext;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The README's async pattern ({@code completion().whenComplete(... RecoveryFilter.fail ...)}) with a group timeout,
 * on the application's own executor: a fixed pool, the most common one. "A deadline is a deadline ... on any JDK and
 * any executor": the 500 should reach the client at the deadline. But the timeout's completion callback is handed to
 * the child-task executor, behind the very tasks that ignore their interrupt and hold every thread of the pool: the
 * callback, and with it the client's answer, waits until those tasks end (here: the client gives up first).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class AsyncTimeoutAnswersOnAnyExecutorTest {

    private static final Duration TIMEOUT = Duration.ofMillis(300);
    private static final Duration MARGIN = Duration.ofMillis(1500);

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final HttpClient client = HttpClient.newHttpClient();
    private final CountDownLatch release = new CountDownLatch(1);

    AsyncTimeoutAnswersOnAnyExecutorTest(Container container) {
        this.container = container;
    }

    @AfterEach
    void releaseTheDeafTasks() {
        release.countDown();
    }

    @Test
    void theTimeoutOfAnAsyncGroupIsAnsweredWhileItsTasksHoldEveryThreadOfTheExecutor() throws Exception {
        ExecutorService pool = harness.shutdownAfter(Executors.newFixedThreadPool(2));
        ServletServer server = harness.server(container, harness.filter().childTaskExecutor(pool).build())
                .route("/quote", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    ChildTasks tasks = ChildTasks.builder(request).name("quote").timeout(TIMEOUT).open();
                    // Two blocking reads on platform threads: deaf to the interrupt until their upstreams answer.
                    tasks.go("price", () -> Blocking.ignoringInterrupts(release));
                    tasks.go("stock", () -> Blocking.ignoringInterrupts(release));
                    tasks.completion().whenComplete((ok, failure) -> {
                        if (failure != null) {
                            RecoveryFilter.fail(async, failure);
                        } else {
                            async.complete();
                        }
                    });
                })
                .start();

        long started = System.nanoTime();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri("/quote"))
                .timeout(Duration.ofSeconds(8)).build(), HttpResponse.BodyHandlers.ofString());
        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(elapsed).isLessThan(TIMEOUT.plus(ChildTasks.DEFAULT_GRACE_PERIOD).plus(MARGIN));
    }
}
