package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Blocking;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.MDC;

/**
 * Every line Backstop writes about a request carries the request's MDC (here a {@code requestId} an outer filter
 * puts there, as most applications do), whichever thread writes it: a completion callback on a task's thread or
 * Backstop's timer, a leak or unobserved failure reported when an async cycle completes on a container thread, an
 * abandoned task, and its late failure.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class RequestMdcOnEveryLineTest {

    private static final String HEADER = "X-Request-Id";
    private static final String KEY = "requestId";

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final HttpClient client = HttpClient.newHttpClient();
    private final CountDownLatch release = new CountDownLatch(1);
    private ServletServer server;

    RequestMdcOnEveryLineTest(Container container) {
        this.container = container;
    }

    /** The application's own request-id filter, in front of RecoveryFilter; it cleans up after its chain. */
    private static final Filter REQUEST_ID = (request, response, chain) -> {
        MDC.put(KEY, ((HttpServletRequest) request).getHeader(HEADER));
        try {
            chain.doFilter(request, response);
        } finally {
            MDC.remove(KEY);
        }
    };

    @BeforeEach
    void start() throws Exception {
        server = harness.server(container, harness.filter().build())
                .outerFilter(REQUEST_ID)
                // The README's async pattern, with a timeout: the callback runs when the deadline passes.
                .route("/async-timeout", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    ChildTasks tasks = ChildTasks.builder(request).timeout(Duration.ofMillis(200)).open();
                    tasks.go("slow", () -> new CountDownLatch(1).await());
                    answerWhenDone(async, tasks);
                })
                // The same pattern, with a task that fails with a checked exception.
                .route("/async-checked", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    ChildTasks tasks = ChildTasks.open(request);
                    CountDownLatch registered = new CountDownLatch(1);
                    tasks.go("lookup", () -> {
                        registered.await(); // so that the callback runs on this task's thread, as it usually does
                        throw new IOException("lookup failed");
                    });
                    answerWhenDone(async, tasks);
                    registered.countDown();
                })
                // An async request completed from another thread with its group open: a leak, found on completion.
                .route("/async-leak", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    ChildTasks tasks = ChildTasks.builder(request).name("forgotten").open();
                    tasks.go("waiting", () -> new CountDownLatch(1).await());
                    async.start(async::complete);
                })
                // The same, with a checked failure nobody observed: reported when the group closes.
                .route("/async-unobserved", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    ChildTasks tasks = ChildTasks.builder(request).name("unread").open();
                    CountDownLatch thrown = new CountDownLatch(1);
                    tasks.go("failing", () -> {
                        try {
                            throw new IOException("nobody reads this");
                        } finally {
                            thrown.countDown();
                        }
                    });
                    async.start(() -> {
                        Blocking.ignoringInterrupts(thrown);
                        async.complete();
                    });
                })
                // A task that ignores the interrupt when the group closes: abandoned; it fails when released.
                .route("/async-abandoned", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    ChildTasks tasks = ChildTasks.builder(request).name("stubborn").gracePeriod(Duration.ofMillis(100))
                            .open();
                    CountDownLatch running = new CountDownLatch(1);
                    tasks.go("deaf", () -> {
                        running.countDown();
                        Blocking.ignoringInterrupts(release);
                        throw new IOException("failed after it was abandoned");
                    });
                    async.start(() -> {
                        Blocking.ignoringInterrupts(running); // a task that never ran is cancelled, not abandoned
                        async.complete();
                    });
                })
                // A child's panic, logged in the task's thread.
                .route("/child-panic", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        tasks.go("price", () -> {
                            throw new IllegalStateException("no price");
                        });
                        tasks.await();
                    }
                })
                .start();
    }

    private static void answerWhenDone(AsyncContext async, ChildTasks tasks) {
        tasks.completion().whenComplete((ok, failure) -> {
            if (failure != null) {
                RecoveryFilter.fail(async, failure);
            } else {
                async.complete();
            }
        });
    }

    /** Sends a request with a fresh request id; returns the id. */
    private String send(String path) throws Exception {
        String id = UUID.randomUUID().toString();
        client.send(HttpRequest.newBuilder(server.uri(path)).header(HEADER, id).timeout(Duration.ofSeconds(20))
                .build(), HttpResponse.BodyHandlers.ofString());
        return id;
    }

    private ILoggingEvent awaitLine(Level level, Predicate<String> message) {
        return await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<ILoggingEvent> found = harness.at(level).stream()
                    .filter(event -> message.test(event.getFormattedMessage())).toList();
            return found.isEmpty() ? null : found.get(0);
        }, event -> event != null);
    }

    private static void assertRequestId(ILoggingEvent event, String id) {
        assertThat(event.getMDCPropertyMap()).as("MDC of: %s", event.getFormattedMessage()).containsEntry(KEY, id);
    }

    @Test
    void theTimeoutAnsweredFromACompletionCallbackIsLoggedWithTheRequestsMdc() throws Exception {
        String id = send("/async-timeout");

        ILoggingEvent panic = awaitLine(Level.ERROR, line -> line.startsWith("panic ") && line.contains("/async-timeout"));
        assertRequestId(panic, id);
        assertThat(panic.getThrowableProxy().getClassName()).isEqualTo(ChildTaskException.class.getName());
    }

    @Test
    void aCheckedChildFailureAnsweredFromACompletionCallbackIsLoggedWithTheRequestsMdc() throws Exception {
        String id = send("/async-checked");

        assertRequestId(awaitLine(Level.ERROR, line -> line.startsWith("panic ") && line.contains("/async-checked")),
                id);
    }

    @Test
    void aLeakFoundWhenAnAsyncCycleCompletesIsLoggedWithTheRequestsMdc() throws Exception {
        String id = send("/async-leak");

        assertRequestId(awaitLine(Level.WARN, line -> line.startsWith("child task group leaked: 'forgotten'")), id);
    }

    @Test
    void anUnobservedFailureIsLoggedWithTheRequestsMdc() throws Exception {
        String id = send("/async-unobserved");

        assertRequestId(awaitLine(Level.WARN, line -> line.startsWith("unobserved child task failure")), id);
    }

    @Test
    void anAbandonedTaskAndItsLateFailureAreLoggedWithTheRequestsMdc() throws Exception {
        String id = send("/async-abandoned");

        assertRequestId(awaitLine(Level.WARN, line -> line.startsWith("child task abandoned")
                && line.contains("group=stubborn")), id);
        release.countDown();
        assertRequestId(awaitLine(Level.WARN, line -> line.startsWith("abandoned child task failed")), id);
    }

    @Test
    void aChildsPanicIsLoggedWithTheRequestsMdc() throws Exception {
        String id = send("/child-panic");

        assertRequestId(awaitLine(Level.ERROR, line -> line.startsWith("panic ") && line.contains("source=child")), id);
    }
}
