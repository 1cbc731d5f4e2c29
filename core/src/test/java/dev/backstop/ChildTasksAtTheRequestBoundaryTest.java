package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Blocking;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import io.restassured.path.json.JsonPath;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.MDC;

/**
 * What happens where child tasks meet the request: failures that reach the filter, groups left open, the request
 * context in task threads, background work after the response, async servlets, and the filter's shutdown.
 */
class ChildTasksAtTheRequestBoundaryTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();
    private Queue<Throwable> uncaught;
    private TestServer server;

    @BeforeEach
    void watch() {
        uncaught = harness.watchUncaught();
    }

    private TestServer start(String path, TestServer.Handler handler) throws Exception {
        return start(harness.filter().build(), path, handler);
    }

    private TestServer start(RecoveryFilter filter, String path, TestServer.Handler handler) throws Exception {
        server = harness.jetty(filter).route(path, handler).start();
        return server;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private List<ILoggingEvent> childPanicEvents() {
        return harness.errors().stream().filter(e -> e.getFormattedMessage().contains("source=child")).toList();
    }

    /** How the handler lets the child's panic reach the filter, in a sync and in async requests. */
    enum Escape {
        /** {@code await()} throws ChildTaskException out of the servlet. */
        AWAIT,
        /** The handler unwraps it and rethrows the child's own exception. */
        RETHROW_CAUSE,
        /** The handler wraps it in a ServletException. */
        WRAPPED,
        /** {@code await()} throws in an ASYNC dispatch. */
        AWAIT_IN_ASYNC_DISPATCH,
        /** An async servlet waits with {@code completion()} and answers with {@code RecoveryFilter.fail}. */
        COMPLETION_AND_FAIL
    }

    @ParameterizedTest
    @EnumSource(Escape.class)
    void aChildPanicReachingTheFilterIsLoggedOnceAndTheResponseCarriesTheChildsErrorId(Escape escape)
            throws Exception {
        start("/fanout", (request, response) -> {
            if (escape == Escape.AWAIT_IN_ASYNC_DISPATCH && request.getDispatcherType() == DispatcherType.REQUEST) {
                request.startAsync().dispatch();
                return;
            }
            AsyncContext async = escape == Escape.COMPLETION_AND_FAIL ? request.startAsync() : null;
            if (async != null) {
                async.setTimeout(30_000);
            }
            ChildTasks tasks = ChildTasks.builder(request).name("fanout").open();
            tasks.go("ok-1", () -> { });
            tasks.go("bad", () -> {
                throw new IllegalStateException("child broke");
            });
            tasks.go("ok-2", () -> { });
            if (async != null) {
                tasks.completion().whenComplete((ok, failure) -> {
                    if (failure != null) {
                        RecoveryFilter.fail(async, failure);
                    } else {
                        async.complete();
                    }
                });
                return;
            }
            try (tasks) {
                tasks.await();
            } catch (ChildTaskException e) {
                switch (escape) {
                    case RETHROW_CAUSE -> throw e.getCause();
                    case WRAPPED -> throw new ServletException("fan-out failed", e);
                    default -> throw e;
                }
            }
        });
        long start = System.nanoTime();
        HttpResponse<String> response = get("/fanout");
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(took).isLessThan(Duration.ofSeconds(5));
        assertThat(harness.errors()).as("exactly one ERROR event for the failure").hasSize(1);
        ILoggingEvent event = childPanicEvents().get(0);
        assertThat(event.getFormattedMessage()).contains("group=fanout", "task=bad", "path=/fanout");
        String childErrorId = event.getMDCPropertyMap().get("errorId");
        assertThat(JsonPath.from(response.body()).getString("errorId")).isEqualTo(childErrorId);
        assertThat(harness.count("backstop.panics", "source", "child", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.count("backstop.panics", "source", "handler")).isZero();
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "panic")).isEqualTo(1);
        assertThat(uncaught).isEmpty();
    }

    @Test
    void aCheckedChildFailureThatEscapesTheHandlerIsLoggedOnceAsAHandlerPanic() throws Exception {
        start("/checked", (request, response) -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go(() -> {
                    throw new IOException("backend down");
                });
                tasks.await();
            }
        });
        HttpResponse<String> response = get("/checked");
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.errors().get(0).getFormattedMessage()).contains("source=handler",
                "exception=java.io.IOException", "backend down");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IOException")).isEqualTo(1);
        assertThat(harness.at(Level.WARN)).as("observed through await(): no unobserved warning").isEmpty();
    }

    @Test
    void aHandlerThatReturnsWithoutAwaitOrCloseLeaksAGroupWhichIsReportedAndClosed() throws Exception {
        CountDownLatch failed = new CountDownLatch(1);
        AtomicBoolean slowInterrupted = new AtomicBoolean();
        start("/leak", (request, response) -> {
            ChildTasks tasks = ChildTasks.builder(request).name("forgotten").open();
            tasks.go("failing", () -> {
                try {
                    throw new IllegalStateException("nobody waits for me");
                } finally {
                    failed.countDown();
                }
            });
            CountDownLatch slowStarted = new CountDownLatch(1);
            tasks.go("slow", Blocking.untilInterrupted(slowStarted, slowInterrupted));
            failed.await();
            slowStarted.await();
            response.getWriter().write("done");
        });
        HttpResponse<String> response = get("/leak");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("done");
        assertThat(childPanicEvents()).hasSize(1);
        assertThat(harness.errors()).hasSize(1);
        List<ILoggingEvent> leaks = harness.at(Level.WARN);
        assertThat(leaks).hasSize(1);
        assertThat(leaks.get(0).getFormattedMessage()).startsWith("child task group leaked: 'forgotten' opened at "
                + getClass().getName()).contains("path=/leak", "1 tasks were cancelled");
        assertThat(slowInterrupted).as("the leaked group's running task was cancelled").isTrue();
        assertThat(harness.count("backstop.leaked.groups")).isEqualTo(1);
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "cancelled")).isEqualTo(1);
        assertThat(harness.count("backstop.panics", "source", "child")).isEqualTo(1);
        assertThat(uncaught).isEmpty();
    }

    @Test
    void aGroupThatWasAwaitedButNotClosedIsClosedQuietlyAtTheEnd() throws Exception {
        start("/awaited", (request, response) -> {
            ChildTasks tasks = ChildTasks.open(request);
            tasks.go(() -> { });
            tasks.await();
        });
        assertThat(get("/awaited").statusCode()).isEqualTo(200);
        assertThat(harness.logs().all()).isEmpty();
        assertThat(harness.count("backstop.leaked.groups")).isZero();
    }

    @Test
    void tasksSeeTheRequestsMdcAndThreadNameWhichAreClearedAfter() throws Exception {
        ExecutorService single = harness.shutdownAfter(Executors.newSingleThreadExecutor());
        AtomicReference<Map<String, String>> inTask = new AtomicReference<>();
        AtomicReference<String> taskThreadName = new AtomicReference<>();
        AtomicReference<Map<String, String>> afterTask = new AtomicReference<>();
        AtomicReference<String> afterThreadName = new AtomicReference<>();
        start(harness.filter().childTaskExecutor(single).build(), "/mdc", (request, response) -> {
            MDC.put("requestId", "req-42");
            try (ChildTasks tasks = ChildTasks.builder(request).name("orders").open()) {
                tasks.go("load", () -> {
                    inTask.set(MDC.getCopyOfContextMap());
                    taskThreadName.set(Thread.currentThread().getName());
                });
                tasks.await();
            } finally {
                MDC.remove("requestId");
            }
        });
        assertThat(get("/mdc").statusCode()).isEqualTo(200);
        // The same pool thread, running plain work afterwards, has nothing left of the task's context.
        single.submit(() -> {
            afterTask.set(MDC.getCopyOfContextMap());
            afterThreadName.set(Thread.currentThread().getName());
        }).get(5, TimeUnit.SECONDS);
        assertThat(inTask.get()).containsEntry("requestId", "req-42");
        // A platform pool thread keeps its own name: renaming one is a system call per task (see BENCHMARKS.md).
        assertThat(taskThreadName.get()).startsWith("pool-").doesNotContain("backstop");
        assertThat(afterTask.get() == null || afterTask.get().isEmpty()).as("MDC after: %s", afterTask.get()).isTrue();
        assertThat(afterThreadName.get()).startsWith("pool-").doesNotContain("backstop");
    }

    @Test
    void aBackgroundTaskFailingAfterTheResponseIsLoggedAndCounted() throws Exception {
        CountDownLatch responded = new CountDownLatch(1);
        start("/audit", (request, response) -> {
            MDC.put("requestId", "req-7");
            try {
                ChildTasks.background(request, "audit", () -> {
                    responded.await();
                    throw new IOException("audit store unavailable");
                });
            } finally {
                MDC.remove("requestId");
            }
            response.getWriter().write("saved");
        });
        HttpResponse<String> response = get("/audit");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("saved");
        assertThat(harness.errors()).isEmpty();
        responded.countDown();

        await().atMost(Duration.ofSeconds(5)).until(() -> harness.errors().size() == 1);
        ILoggingEvent event = harness.errors().get(0);
        assertThat(event.getFormattedMessage()).contains("source=background", "task=audit", "path=/audit",
                "exception=java.io.IOException");
        assertThat(event.getMDCPropertyMap()).containsEntry("requestId", "req-7");
        assertThat(harness.count("backstop.panics", "source", "background", "exception", "IOException"))
                .isEqualTo(1);
        await().until(() -> harness.count("backstop.tasks", "kind", "background", "outcome", "failure") == 1);
        assertThat(uncaught).isEmpty();
    }

    @Test
    void anAsyncServletFansOutAndAnswers500AsSoonAsTheTasksAreDoneNotAtTheAsyncTimeout() throws Exception {
        start("/async-fanout", (request, response) -> {
            AsyncContext async = request.startAsync();
            async.setTimeout(60_000);
            ChildTasks tasks = ChildTasks.builder(request).name("async-fanout").open();
            tasks.go("a", () -> { });
            tasks.go("b", () -> {
                throw new IllegalArgumentException("bad input downstream");
            });
            tasks.go("c", () -> { });
            tasks.completion().whenComplete((ok, failure) -> {
                if (failure != null) {
                    RecoveryFilter.fail(async, failure);
                    return;
                }
                async.complete();
            });
        });
        long start = System.nanoTime();
        HttpResponse<String> response = get("/async-fanout");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(JsonPath.from(response.body()).getString("errorId"))
                .isEqualTo(childPanicEvents().get(0).getMDCPropertyMap().get("errorId"));
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.at(Level.WARN)).as("completion() observed the group: no leak").isEmpty();
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "success")).isEqualTo(2);
    }

    @Test
    void aGroupLeftOpenByAnAsyncRequestIsClosedWhenTheAsyncCycleCompletes() throws Exception {
        AtomicBoolean interrupted = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(1);
        start("/async-leak", (request, response) -> {
            AsyncContext async = request.startAsync();
            ChildTasks tasks = ChildTasks.builder(request).name("async-leak").open();
            tasks.go("stuck", Blocking.untilInterrupted(started, interrupted));
            started.await();
            async.getResponse().getWriter().write("answered");
            async.complete();
        });
        HttpResponse<String> response = get("/async-leak");
        assertThat(response.body()).isEqualTo("answered");
        await().atMost(Duration.ofSeconds(5)).until(() -> harness.at(Level.WARN).size() == 1);
        assertThat(harness.at(Level.WARN).get(0).getFormattedMessage()).contains("'async-leak'", "path=/async-leak");
        await().until(interrupted::get);
        assertThat(harness.count("backstop.leaked.groups")).isEqualTo(1);
    }

    @Test
    void openingAGroupOnARequestTheFilterNeverSawSaysHowToInstallIt() throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServlet(new ServletHolder(new jakarta.servlet.http.HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, jakarta.servlet.http.HttpServletResponse response) {
                try {
                    ChildTasks.open(request);
                } catch (Throwable t) {
                    thrown.set(t);
                }
            }
        }), "/*");
        Server bare = harness.plainJetty(context);
        client.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + Harness.port(bare) + "/x"))
                .build(), HttpResponse.BodyHandlers.discarding());
        assertThat(thrown.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("RecoveryFilter")
                .hasMessageContaining("REQUEST and ASYNC");
    }

    @Test
    void aGroupOpenedFromAnotherThreadWhileTheRequestRunsBelongsToItAndEndsWithIt() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        start("/elsewhere", (request, response) -> {
            Thread other = new Thread(() -> ChildTasks.open(request).go("stuck",
                    Blocking.untilInterrupted(started, interrupted)));
            other.start();
            other.join();
            started.await();
        });

        assertThat(get("/elsewhere").statusCode()).isEqualTo(200);
        assertThat(interrupted).as("cancelled when its request ended").isTrue();
        assertThat(harness.count("backstop.leaked.groups")).isEqualTo(1);
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "cancelled")).isEqualTo(1);
    }

    @Test
    void openingAGroupOnARequestThatHasEndedIsRefused() throws Exception {
        AtomicReference<HttpServletRequest> kept = new AtomicReference<>();
        start("/kept", (request, response) -> kept.set(request));
        assertThat(get("/kept").statusCode()).isEqualTo(200);

        assertThatThrownBy(() -> ChildTasks.open(kept.get())).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ChildTasks.background(kept.get(), "late", () -> { }))
                .isInstanceOf(IllegalStateException.class);
        assertThat(harness.total("backstop.tasks")).isZero();
    }

    @Test
    void destroyWaitsForBackgroundTasksForTheGraceThenInterruptsAndReportsThem() throws Exception {
        CountDownLatch started = new CountDownLatch(2);
        AtomicBoolean quickFinished = new AtomicBoolean();
        AtomicBoolean stuckInterrupted = new AtomicBoolean();
        CountDownLatch quickRelease = new CountDownLatch(1);
        start(harness.filter().backgroundGracePeriod(Duration.ofMillis(300)).build(),
                "/bg", (request, response) -> {
                    ChildTasks.background(request, "quick", () -> {
                        started.countDown();
                        quickRelease.await();
                        quickFinished.set(true);
                    });
                    ChildTasks.background(request, "stuck", Blocking.untilInterrupted(started, stuckInterrupted));
                });
        assertThat(get("/bg").statusCode()).isEqualTo(200);
        started.await();
        quickRelease.countDown();
        server.close(); // destroys the filter: the grace period starts now

        assertThat(quickFinished).as("finished within the grace period").isTrue();
        await().atMost(Duration.ofSeconds(5)).until(stuckInterrupted::get);
        List<ILoggingEvent> warnings = harness.at(Level.WARN);
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).getFormattedMessage()).contains("background task still running", "task=stuck",
                "PT0.3S");
        await().until(() -> harness.count("backstop.tasks", "kind", "background", "outcome", "cancelled") == 1);
        assertThat(harness.count("backstop.tasks", "kind", "background", "outcome", "success")).isEqualTo(1);
        assertThat(harness.errors()).isEmpty();
    }
}
