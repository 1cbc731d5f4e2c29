package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.FailureClasses;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import io.micrometer.core.instrument.Counter;
import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Failures in bulk must not turn into memory, meter series or threads: a group of 100,000 failing tasks, 1,000
 * distinct exception classes, a handler that tries to start a million tasks.
 */
class BoundedResourcesTest {

    /** What a group may keep for 100,000 failed tasks: the first failure and a few suppressed ones, not all. */
    static final long GROUP_RETAINED_LIMIT_BYTES = 8L << 20;

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();
    private TestServer server;

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(50)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void groupOfAHundredThousandFailingTasksKeepsBoundedMemory() throws Exception {
        int tasks = 100_000;
        server = harness.jetty()
                .route("/many", (request, response) -> {
                    long before = heapAfterGc();
                    try (ChildTasks group = ChildTasks.builder(request).name("bulk").limit(64).open()) {
                        for (int i = 0; i < tasks; i++) {
                            int n = i;
                            group.go(() -> {
                                throw new IllegalStateException("task " + n + " failed");
                            });
                        }
                        try {
                            group.await();
                        } catch (ChildTaskException expected) {
                            // The group is still open, holding everything it keeps for await() and close(). The
                            // test's own log capture (100,000 short panic lines) is not Backstop's to hold.
                            harness.logs().clear();
                            long retained = heapAfterGc() - before;
                            response.getWriter().write(retained + " " + expected.getMessage()
                                    + " suppressed=" + expected.getSuppressed().length);
                        }
                    }
                })
                .start();

        HttpResponse<String> response = get("/many");

        assertThat(response.statusCode()).isEqualTo(200);
        String[] parts = response.body().split(" ", 2);
        long retained = Long.parseLong(parts[0]);
        System.out.printf("a group of %,d failed tasks retained %,d bytes after a full GC%n", tasks, retained);
        assertThat(retained).as("bytes retained by a group of %d failed tasks", tasks)
                .isLessThan(GROUP_RETAINED_LIMIT_BYTES);
        assertThat(parts[1]).startsWith("100000 of 100000 tasks in group 'bulk' failed")
                .endsWith("suppressed=" + 16);
        assertThat(harness.count("backstop.panics", "source", "child")).isEqualTo(tasks);
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "panic")).isEqualTo(tasks);
    }

    @Test
    void aThousandDistinctExceptionClassesLeaveTheExceptionTagBounded() throws Exception {
        List<Class<? extends RuntimeException>> classes = FailureClasses.generate(1_000);
        assertThat(classes.stream().map(Class::getName).distinct()).hasSize(1_000);
        server = harness.jetty()
                .route("/throw", (request, response) -> {
                    throw classes.get(Integer.parseInt(request.getParameter("n"))).getConstructor().newInstance();
                })
                .start();

        for (int n = 0; n < classes.size(); n++) {
            assertThat(get("/throw?n=" + n).statusCode()).isEqualTo(500);
        }

        List<Counter> series = harness.registry().find("backstop.panics").counters().stream().toList();
        Set<String> tags = series.stream().map(c -> c.getId().getTag("exception")).collect(Collectors.toSet());
        assertThat(tags).hasSize(101).contains("other");
        assertThat(harness.count("backstop.panics", "exception", "other")).isEqualTo(900);
        assertThat(harness.count("backstop.panics")).isEqualTo(1_000);
        // Distinct failures are each logged (the log-storm limiter folds identical ones only).
        assertThat(harness.errors()).hasSize(1_000);
    }

    @Test
    void handlerStartingAMillionTasksHitsTheCapAndTheServerStaysHealthy() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        server = harness.jetty()
                .route("/million", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.builder(request).name("greedy").open()) {
                        for (int i = 0; i < 1_000_000; i++) {
                            tasks.go(never::await);
                            started.incrementAndGet();
                        }
                    }
                })
                .route("/fanout", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        AtomicInteger done = new AtomicInteger();
                        for (int i = 0; i < 8; i++) {
                            tasks.go(done::incrementAndGet);
                        }
                        tasks.await();
                        response.getWriter().write("done " + done.get());
                    }
                })
                .start();

        HttpResponse<String> greedy = get("/million");

        assertThat(greedy.statusCode()).isEqualTo(500);
        assertThat(started.get()).isEqualTo(RecoveryFilter.DEFAULT_MAX_CHILD_TASKS);
        ILoggingEvent panic = harness.errors().get(0);
        assertThat(panic.getFormattedMessage()).contains("exception=java.util.concurrent.RejectedExecutionException",
                "1000 child tasks are already running in this application", "max-child-tasks");
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "rejected")).isEqualTo(1);
        // The group's 1,000 tasks were cancelled when the handler's try-with-resources closed it.
        await().atMost(Duration.ofSeconds(30)).until(() ->
                harness.gauge("backstop.tasks.active", "kind", "scoped") == 0);
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "cancelled")).isEqualTo(1_000);

        // The next requests are served as usual.
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> next = get("/fanout");
            assertThat(next.statusCode()).isEqualTo(200);
            assertThat(next.body()).isEqualTo("done 8");
        }
    }
}
