package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Blocking;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * "A request ending with several groups open waits at most the longest grace period, not their sum" is kept by
 * giving every group the same clock; but the groups are still cancelled one after the other, each only once the one
 * before has waited out its grace period. A second group's tasks are then interrupted when the shared deadline has
 * already passed, and are abandoned at once: a task that obeys its interrupt (and needs a moment to clean up, as
 * closing a connection does) is logged as "child task abandoned", counted {@code abandoned} instead of
 * {@code cancelled}, and runs a whole grace period longer than it had to.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class EveryGroupOpenAtRequestEndGetsItsGracePeriodTest {

    private static final Duration CLEANUP = Duration.ofMillis(100);

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final HttpClient client = HttpClient.newHttpClient();
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch politeEnded = new CountDownLatch(1);
    private final AtomicLong requestEnded = new AtomicLong();
    private final AtomicLong politeInterrupted = new AtomicLong();

    EveryGroupOpenAtRequestEndGetsItsGracePeriodTest(Container container) {
        this.container = container;
    }

    @AfterEach
    void releaseTheDeafTask() {
        release.countDown();
    }

    @Test
    void aTaskThatObeysItsInterruptIsCancelledNotAbandonedWhateverGroupWasClosedFirst() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/two-groups", (request, response) -> {
                    CountDownLatch running = new CountDownLatch(2);
                    // Both groups are left for the request's end to close (the README's async pattern does so too).
                    ChildTasks first = ChildTasks.builder(request).name("first").open();
                    first.go("deaf", () -> {
                        running.countDown();
                        Blocking.ignoringInterrupts(release); // a blocking read on a platform thread
                    });
                    ChildTasks second = ChildTasks.builder(request).name("second").open();
                    second.go("polite", () -> {
                        running.countDown();
                        try {
                            new CountDownLatch(1).await();
                        } catch (InterruptedException e) {
                            politeInterrupted.set(System.nanoTime());
                            // Well within the one-second grace period: closes what it holds, then stops.
                            LockSupport.parkNanos(CLEANUP.toNanos());
                            politeEnded.countDown();
                            throw e;
                        }
                    });
                    Blocking.ignoringInterrupts(running);
                    requestEnded.set(System.nanoTime());
                })
                .start();

        HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri("/two-groups"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(politeEnded.await(10, TimeUnit.SECONDS)).isTrue();

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "abandoned")
                        + harness.count("backstop.tasks", "kind", "scoped", "outcome", "cancelled")).isEqualTo(2));
        List<ILoggingEvent> abandoned = harness.at(Level.WARN).stream()
                .filter(event -> event.getFormattedMessage().startsWith("child task abandoned")).toList();
        assertThat(abandoned).as("only the deaf task ignored its interrupt").singleElement()
                .satisfies(event -> assertThat(event.getFormattedMessage()).contains("group=first task=deaf"));
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "cancelled"))
                .as("the polite task obeyed its interrupt").isEqualTo(1);
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "abandoned")).isEqualTo(1);
        // Interrupted when the request ended, not a grace period later.
        assertThat(Duration.ofNanos(politeInterrupted.get() - requestEnded.get()))
                .isLessThan(ChildTasks.DEFAULT_GRACE_PERIOD.dividedBy(2));
    }
}
