package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Blocking;
import dev.backstop.testing.Container;
import dev.backstop.testing.Container.Registration;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import io.restassured.path.json.JsonPath;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The filter and ChildTasks on every container the suites run on (Jetty 12, Tomcat 11), registered both ways users
 * register them (web.xml style by class with init-params, and a built instance), each case on a real server over
 * real HTTP: what a client, a log reader and a dashboard see.
 */
@ParameterizedClass(name = "{0}, {1}")
@MethodSource("setups")
class ContainersTest {

    static Stream<Arguments> setups() {
        return Stream.of(Container.values()).flatMap(container ->
                Stream.of(Registration.values()).map(registration -> Arguments.of(container, registration)));
    }

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final Registration registration;
    private final HttpClient client = HttpClient.newHttpClient();
    private ServletServer server;

    ContainersTest(Container container, Registration registration) {
        this.container = container;
        this.registration = registration;
    }

    @BeforeEach
    void watch() {
        harness.expectNoUncaught();
    }

    private void start(String path, ServletServer.Handler handler) throws Exception {
        server = harness.server(container, registration).route(path, handler).start();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * {@code backstop.responses} for an abort: both containers abort (Jetty on {@code sendError(-1)}, Tomcat through
     * its {@code CLOSE_NOW} action). Counted just after the abort, so the client may see the end first.
     */
    private void awaitAbortCounted(String reason) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(harness.count("backstop.responses", "outcome", "aborted", "reason", reason)).isEqualTo(1));
    }

    @Test
    void aHandlerPanicIsAnsweredWithASafeProblemJson500LoggedAndCountedOnce() throws Exception {
        start("/panic", (request, response) -> {
            response.setHeader("X-Handler", "was here");
            response.setContentType("text/html");
            throw new IllegalStateException("secret message: db password is hunter2");
        });

        HttpResponse<String> response = get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(response.headers().firstValue("X-Handler")).as("the handler's headers are dropped").isEmpty();
        JsonPath json = JsonPath.from(response.body());
        assertThat(json.getInt("status")).isEqualTo(500);
        assertThat(json.getString("title")).isEqualTo("Internal Server Error");
        String errorId = json.getString("errorId");
        assertThat(errorId).matches("[0-9a-f]{16}");
        assertThat(response.body())
                .doesNotContain("IllegalStateException", "secret", "hunter2", "dev.backstop", "at ");

        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage())
                .startsWith("panic errorId=" + errorId + " source=handler method=GET path=/panic");
        assertThat(errors.get(0).getMDCPropertyMap()).containsEntry("errorId", errorId);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "panic")).isEqualTo(1);
    }

    /**
     * A failure after part of a chunked body went out: the client sees the 200 and the partial body, and then no
     * terminating chunk but the end of the connection: Backstop aborts it on both containers, and rethrows nothing
     * (on Tomcat a rethrow would run an error page into the committed body, and log the stack again).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/committed", "/committed?async=dispatch"})
    void aPanicAfterCommitEndsTheConnectionWithoutTheFinalChunk(String path) throws Exception {
        start("/committed", (request, response) -> {
            if (request.getParameter("async") != null && request.getDispatcherType() == DispatcherType.REQUEST) {
                request.startAsync().dispatch();
                return;
            }
            ServletOutputStream out = response.getOutputStream();
            out.write("partial-body".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            throw new IllegalStateException("broke halfway");
        });

        RawHttp.Exchange exchange = RawHttp.get(server.port(), path, true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("Transfer-Encoding: chunked");
        assertThat(exchange.body()).contains("partial-body");
        assertThat(exchange.body()).as("no terminating chunk").doesNotEndWith("0\r\n\r\n");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);

        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        awaitAbortCounted("panic");
        assertThat(harness.total("backstop.responses")).isEqualTo(1);
    }

    @Test
    void aPanicAfterCommitWithAContentLengthIsNotPaddedToLookWhole() throws Exception {
        start("/sized", (request, response) -> {
            response.setContentLength(100);
            ServletOutputStream out = response.getOutputStream();
            out.write("0123456789".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            throw new IllegalStateException("broke after 10 of 100 bytes");
        });

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/sized", true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("Content-Length: 100");
        assertThat(exchange.body()).isEqualTo("0123456789");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
    }

    @Test
    void abortRequestExceptionAbortsWithoutAPanic() throws Exception {
        start("/abort", (request, response) -> {
            response.setHeader("X-Partial", "never sent");
            throw new AbortRequestException();
        });

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/abort", true);

        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        // Both containers abort at once (Tomcat through its CLOSE_NOW action): no response at all, and no error
        // page written in its place.
        assertThat(exchange.text()).as("no response at all").isEmpty();
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.total("backstop.panics")).isZero();
        awaitAbortCounted("abort_request");
    }

    /**
     * {@code RecoveryFilter.fail} with an {@code AbortRequestException} from an async servlet's own thread, before
     * anything was committed: the same abort as on the request thread, and never the container's error page (which
     * on Tomcat names the exception). The async timeout (30 s) is longer than the raw client's read timeout (10 s),
     * so a response left open shows as KEPT_OPEN.
     */
    @Test
    void anAbortPassedToFailBeforeCommitAbortsWithoutAnErrorPage() throws Exception {
        start("/async-abort", (request, response) -> {
            AsyncContext async = request.startAsync();
            async.setTimeout(30_000);
            response.setHeader("X-Partial", "never sent");
            async.start(() -> RecoveryFilter.fail(async, new AbortRequestException("changed my mind")));
        });

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/async-abort", true);

        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(exchange.text()).as("no response at all, no error page").isEmpty();
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.total("backstop.panics")).isZero();
        awaitAbortCounted("abort_request");
    }

    @Test
    void abortRequestExceptionAfterCommitEndsTheBodyWithoutCompletingIt() throws Exception {
        start("/abort-committed", (request, response) -> {
            response.getOutputStream().write("started".getBytes(StandardCharsets.US_ASCII));
            response.flushBuffer();
            throw new AbortRequestException("changed my mind");
        });

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/abort-committed", true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200");
        assertThat(exchange.body()).contains("started").doesNotEndWith("0\r\n\r\n");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.total("backstop.panics")).isZero();
    }

    /**
     * An async servlet that already sent part of its body when a child task panics: {@code RecoveryFilter.fail}
     * must not let the body end cleanly, nor leave it hanging: both containers abort the connection at once. The async
     * timeout (30 s) is longer than the raw client's read timeout (10 s), so a connection left open until the timeout
     * shows as KEPT_OPEN.
     */
    @Test
    void aChildPanicAfterAnAsyncResponseWasCommittedNeverEndsTheBodyCleanly() throws Exception {
        start("/async-committed", (request, response) -> {
            AsyncContext async = request.startAsync();
            async.setTimeout(30_000);
            ServletOutputStream out = response.getOutputStream();
            out.write("partial-body".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ChildTasks tasks = ChildTasks.builder(request).name("late").open();
            tasks.go("bad", () -> {
                throw new IllegalStateException("child broke after commit");
            });
            tasks.completion().whenComplete((ok, failure) -> RecoveryFilter.fail(async, failure));
        });

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/async-committed", true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("Transfer-Encoding: chunked");
        assertThat(exchange.body()).contains("partial-body").as("no terminating chunk").doesNotEndWith("0\r\n\r\n");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.errors().get(0).getFormattedMessage()).contains("source=child", "task=bad");
        assertThat(harness.count("backstop.panics", "source", "child", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        awaitAbortCounted("panic");
    }

    /**
     * An async servlet fans out to 8 child tasks and answers from {@code completion()}: 200 with every part, or,
     * when one task panics, {@code RecoveryFilter.fail} answers 500 with that child's error id, logged and counted
     * once.
     */
    @ParameterizedTest(name = "one task fails: {0}")
    @ValueSource(booleans = {false, true})
    void anAsyncServletFansOutToEightTasksAndAnswersFromCompletion(boolean oneFails) throws Exception {
        start("/fanout", (request, response) -> {
            AsyncContext async = request.startAsync();
            async.setTimeout(30_000);
            ChildTasks tasks = ChildTasks.builder(request).name("fanout").open();
            AtomicIntegerArray parts = new AtomicIntegerArray(8);
            for (int i = 0; i < parts.length(); i++) {
                int part = i;
                tasks.go("part-" + part, () -> {
                    if (oneFails && part == 5) {
                        throw new IllegalStateException("part 5 is broken");
                    }
                    parts.set(part, part + 1);
                });
            }
            tasks.completion().whenComplete((ok, failure) -> {
                if (failure != null) {
                    RecoveryFilter.fail(async, failure);
                    return;
                }
                try {
                    int sum = IntStream.range(0, parts.length()).map(parts::get).sum();
                    async.getResponse().getWriter().write("sum=" + sum);
                    async.complete();
                } catch (IOException | RuntimeException e) {
                    RecoveryFilter.fail(async, e);
                }
            });
        });

        HttpResponse<String> response = get("/fanout");

        if (!oneFails) {
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("sum=36");
            assertThat(harness.logs().all()).isEmpty();
            assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "success")).isEqualTo(8);
            assertThat(harness.total("backstop.panics")).isZero();
            return;
        }
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(response.body()).doesNotContain("IllegalStateException", "part 5");
        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage()).contains("source=child", "task=part-5", "path=/fanout");
        assertThat(JsonPath.from(response.body()).getString("errorId"))
                .isEqualTo(errors.get(0).getMDCPropertyMap().get("errorId"));
        assertThat(harness.at(Level.WARN)).as("completion() observed the group: no leak").isEmpty();
        assertThat(harness.count("backstop.panics", "source", "child", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
    }

    /**
     * A handler opens a group, starts a task that runs until cancelled, and returns without closing the group
     * (synchronously, or by completing its async cycle): the client gets its 200, then the group is closed, its task
     * interrupted, and the leak logged once at WARN and counted.
     */
    @ParameterizedTest(name = "async: {0}")
    @ValueSource(booleans = {false, true})
    void aGroupLeftOpenAtTheEndOfTheRequestIsClosedCancelledReportedAndCounted(boolean async) throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        start("/leak", (request, response) -> {
            AsyncContext asyncContext = async ? request.startAsync() : null;
            ChildTasks tasks = ChildTasks.builder(request).name("forgotten").open();
            tasks.go("stuck", Blocking.untilInterrupted(started, interrupted));
            started.await();
            response.getWriter().write("done");
            if (asyncContext != null) {
                asyncContext.complete();
            }
        });

        HttpResponse<String> response = get("/leak");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("done");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(harness.count("backstop.leaked.groups")).isEqualTo(1));
        await().atMost(Duration.ofSeconds(10)).untilTrue(interrupted);
        List<ILoggingEvent> warnings = harness.at(Level.WARN);
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).getFormattedMessage()).contains("leaked", "'forgotten'", "path=/leak");
        assertThat(harness.errors()).isEmpty();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "cancelled")).isEqualTo(1));
        assertThat(harness.total("backstop.panics")).isZero();
    }

    /** A server whose filter waits {@code grace} for background tasks at shutdown, registered this test's way. */
    private ServletServer serverWithGrace(String grace) {
        if (registration == Registration.PROGRAMMATIC) {
            return harness.server(container, harness.filter()
                    .backgroundGracePeriod(Duration.ofMillis(Long.parseLong(grace.replace("ms", "")))).build());
        }
        return harness.server(container, Map.of("background-grace-period", grace));
    }

    /**
     * Stopping the server with background tasks running: a task that finishes within the grace period ends as
     * usual; one still running after it is interrupted, logged at WARN and counted; nothing ends silently.
     */
    @Test
    void stoppingTheServerGivesBackgroundTasksTheGraceThenInterruptsAndReportsThem() throws Exception {
        CountDownLatch started = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        AtomicBoolean interrupted = new AtomicBoolean();
        server = serverWithGrace("300ms").route("/bg", (request, response) -> {
            ChildTasks.background(request, "polite", () -> {
                started.countDown();
                release.await();
                finished.set(true);
            });
            ChildTasks.background(request, "stuck", Blocking.untilInterrupted(started, interrupted));
            response.getWriter().write("started");
        }).start();
        assertThat(get("/bg").statusCode()).isEqualTo(200);
        started.await();
        release.countDown();

        server.close(); // destroys the filter: the grace period starts now

        assertThat(finished).as("the polite task finished").isTrue();
        await().atMost(Duration.ofSeconds(10)).until(interrupted::get);
        assertThat(harness.at(Level.WARN)).filteredOn(e -> e.getFormattedMessage().startsWith("background task"))
                .singleElement().satisfies(warning -> assertThat(warning.getFormattedMessage())
                        .contains("background task still running", "task=stuck"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(harness.count("backstop.tasks", "kind", "background", "outcome", "cancelled")).isEqualTo(1);
            assertThat(harness.count("backstop.tasks", "kind", "background", "outcome", "success")).isEqualTo(1);
        });
        assertThat(harness.errors()).isEmpty();
    }
}
