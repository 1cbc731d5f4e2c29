package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Many groups at once, each with a random limit, fail-fast or not, a deadline or not, cancelled by its handler or
 * not, running tasks that succeed, panic, fail with a checked exception or block until they are interrupted: every
 * task that a group accepted is counted exactly once ({@code backstop.tasks} over all outcomes), every panic is
 * counted and logged once, nothing stays running, and every request is answered (200, or 500 when a task failed).
 */
class GroupStressTest {

    private static final int REQUESTS = 1_000;
    private static final int CONCURRENCY = 16;

    @RegisterExtension
    final Harness harness = new Harness();

    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong panicsThrown = new AtomicLong();
    private final CountDownLatch never = new CountDownLatch(1);

    private void serve(jakarta.servlet.http.HttpServletRequest request, jakarta.servlet.http.HttpServletResponse response)
            throws IOException {
        SplittableRandom random = new SplittableRandom(Long.parseLong(request.getParameter("seed")));
        ChildTasks.Builder builder = ChildTasks.builder(request).name("stress").limit(1 + random.nextInt(4));
        if (random.nextBoolean()) {
            builder.failFast();
        }
        boolean deadline = random.nextInt(3) == 0;
        if (deadline) {
            builder.timeout(Duration.ofMillis(5 + random.nextInt(30)));
        }
        builder.gracePeriod(Duration.ofSeconds(5));
        int tasks = 1 + random.nextInt(12);
        int cancelAfter = random.nextInt(4) == 0 ? random.nextInt(tasks) : -1;
        // A task that blocks until cancelled only in a group whose deadline is sure to cancel it (a handler's cancel
        // may come after a go() that waits for a slot such a task holds).
        int behaviours = deadline ? 10 : 7;
        try (ChildTasks group = builder.open()) {
            for (int i = 0; i < tasks; i++) {
                if (i == cancelAfter) {
                    group.cancel("the handler changed its mind");
                }
                int behaviour = random.nextInt(behaviours);
                if (i % 2 == 0) {
                    group.go(() -> run(behaviour)); // waits for a slot; in a cancelled group, counted as cancelled
                } else if (!group.tryGo(() -> run(behaviour))) {
                    continue; // refused (cancelled, or no slot free now): not accepted
                }
                accepted.incrementAndGet();
            }
            group.await();
            response.getWriter().write("ok");
        }
    }

    private void run(int behaviour) throws Exception {
        if (behaviour < 4) {
            return; // succeeds
        }
        if (behaviour < 6) {
            panicsThrown.incrementAndGet();
            throw new IllegalStateException("a task's bug");
        }
        if (behaviour < 7) {
            throw new IOException("a task's checked failure");
        }
        // Blocks, as a slow call does, until the group cancels it (fail-fast, deadline, handler, or request end).
        never.await(30, TimeUnit.SECONDS);
    }

    @Test
    void everyAcceptedTaskIsCountedExactlyOnceAndNothingIsLeftRunning() throws Exception {
        TestServer server = harness.jetty(harness.filter().logStormInterval(Duration.ZERO).build())
                .route("/stress", this::serve)
                .start();
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(CONCURRENCY);
        for (int seed = 0; seed < REQUESTS; seed++) {
            inFlight.acquire();
            responses.add(client.sendAsync(HttpRequest.newBuilder(server.uri("/stress?seed=" + seed))
                            .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString())
                    .whenComplete((r, e) -> inFlight.release()));
        }
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertThat(response.get(90, TimeUnit.SECONDS).statusCode()).isIn(200, 500);
        }

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(harness.gauge("backstop.tasks.active", "kind", "scoped")).isZero());
        double counted = 0;
        for (String outcome : List.of("success", "panic", "failure", "cancelled", "abandoned")) {
            counted += harness.count("backstop.tasks", "kind", "scoped", "outcome", outcome);
        }
        assertThat(accepted.get()).as("tasks accepted").isPositive();
        assertThat(counted).as("tasks counted over all outcomes").isEqualTo((double) accepted.get());
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "panic"))
                .as("panicked tasks").isEqualTo((double) panicsThrown.get());
        assertThat(harness.count("backstop.panics", "source", "child")).as("child panics")
                .isEqualTo((double) panicsThrown.get());
        assertThat(harness.errors().stream().filter(e -> e.getFormattedMessage().startsWith("panic ")
                && e.getFormattedMessage().contains("a task's bug"))).as("panic lines").hasSize((int) panicsThrown.get());
    }
}
