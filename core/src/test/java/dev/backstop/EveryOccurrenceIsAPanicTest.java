package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.Meters;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import dev.backstop.testing.TestServer;
import dev.backstop.testing.TomcatServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.restassured.path.json.JsonPath;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.assertj.core.api.SoftAssertions;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every occurrence of a failure is a panic of its own: its own error id, its own count, its own ERROR line, even
 * when the application throws the very same throwable object again. Real code does that all the time: a cached
 * {@code CompletableFuture} whose load failed rethrows one {@code CompletionException} from every {@code join()},
 * and libraries keep pre-built exceptions for cheap control flow.
 *
 * <p>A failure is recorded once only along one report chain: a child task's panic handed to its own handler through
 * {@link ChildTasks#await()} in the same request, and one failure passing two Backstop filters of one chain.
 *
 * <p>Every filter and Backstop here logs each panic in full ({@code logStormInterval(Duration.ZERO)}), so that each
 * panic has an ERROR line of its own to check. Each test throws objects of its own: a throwable shared between
 * tests would couple them.
 */
class EveryOccurrenceIsAPanicTest {

    /** How many times each scenario repeats a failure. */
    private static final int N = 5;

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();

    /** A failure built once and thrown again and again, as libraries keep them: no stack, one object. */
    static final class PrebuiltFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PrebuiltFailure(String message) {
            super(message, null, false, false);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The cached CompletableFuture

    /**
     * The recommended way to load in the background, {@code backstop.guard(CompletableFuture.supplyAsync(...))},
     * reports the failed load once ({@code source=executor}). The future is cached; every request that joins it
     * afterwards fails again, and each of those failures is a handler panic of its own.
     */
    @ParameterizedTest
    @EnumSource(Container.class)
    void aCachedFutureWhoseGuardedLoadFailedIsAPanicOnEveryRequestThatJoinsIt(Container container) throws Exception {
        Backstop backstop = Backstop.builder().meterRegistry(harness.registry()).logStormInterval(Duration.ZERO)
                .build();
        ExecutorService loader = Executors.newSingleThreadExecutor();
        harness.closeAfter(loader::shutdownNow);
        CompletableFuture<String> settings = backstop.guard(CompletableFuture.supplyAsync(() -> {
            throw new IllegalStateException("settings service unavailable");
        }, loader));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> harness.count("backstop.panics", "source", "executor") == 1);
        assertThat(catchThrowable(settings::join)).as("the cache rethrows one object from every join()")
                .isInstanceOf(CompletionException.class).isSameAs(catchThrowable(settings::join));
        String loadErrorId = errorIdsLoggedFor("executor").get(0);

        ServletServer server = harness.server(container, RecoveryFilter.builder().backstop(backstop).build())
                .route("/page", (request, response) -> {
                    if (request.getParameter("wrap") == null) {
                        response.getWriter().write(settings.join()); // the CompletionException escapes as is
                        return;
                    }
                    try {
                        response.getWriter().write(settings.join());
                    } catch (CompletionException e) {
                        throw new IllegalStateException("cannot render the page without settings", e);
                    }
                })
                .start();

        List<String> bodyIds = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            bodyIds.add(errorIdOf(get(server, i % 2 == 0 ? "/page" : "/page?wrap=true")));
        }

        SoftAssertions.assertSoftly(softly -> {
            softly.assertThat(bodyIds).as("error ids in the bodies of the %d 500s", N)
                    .doesNotHaveDuplicates().doesNotContain(loadErrorId);
            softly.assertThat(harness.count("backstop.panics", "source", "handler"))
                    .as("backstop.panics{source=handler}").isEqualTo(N);
            softly.assertThat(errorIdsLoggedFor("handler")).as("error ids of the handler ERROR lines, in order")
                    .isEqualTo(bodyIds);
            softly.assertThat(harness.errors()).as("ERROR lines: the failed load, then each request")
                    .hasSize(N + 1);
            softly.assertThat(harness.count("backstop.panics", "source", "executor"))
                    .as("the failed load stays one executor panic").isEqualTo(1);
        });
    }

    /**
     * A child task joined the cached future first: its panic went to its own request, with its own error id. The
     * requests after it join the same future on the request thread; each is a handler panic of its own and does not
     * borrow the child's error id.
     */
    @ParameterizedTest
    @EnumSource(Container.class)
    void aSharedFailureAChildReportedInAnEarlierRequestIsAPanicAgainInEveryLaterHandler(Container container)
            throws Exception {
        ExecutorService loader = Executors.newSingleThreadExecutor();
        harness.closeAfter(loader::shutdownNow);
        CompletableFuture<String> settings = CompletableFuture.supplyAsync(() -> {
            throw new IllegalStateException("settings service unavailable");
        }, loader);
        await().atMost(Duration.ofSeconds(10)).until(settings::isDone);

        ServletServer server = harness.server(container, filter())
                .route("/fanout", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.builder(request).name("fanout").open()) {
                        tasks.go("settings", settings::join);
                        tasks.await();
                    }
                })
                .route("/page", (request, response) -> {
                    if (request.getParameter("wrap") == null) {
                        response.getWriter().write(settings.join());
                        return;
                    }
                    try {
                        response.getWriter().write(settings.join());
                    } catch (CompletionException e) {
                        throw new ServletException("cannot render the page without settings", e);
                    }
                })
                .start();

        String childErrorId = errorIdOf(get(server, "/fanout"));
        assertThat(errorIdsLoggedFor("child")).as("the child's panic, answered with its own id")
                .containsExactly(childErrorId);

        List<String> bodyIds = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            bodyIds.add(errorIdOf(get(server, i % 2 == 0 ? "/page" : "/page?wrap=true")));
        }

        SoftAssertions.assertSoftly(softly -> {
            softly.assertThat(bodyIds).as("error ids in the bodies of the %d handler 500s", N)
                    .doesNotHaveDuplicates().doesNotContain(childErrorId);
            softly.assertThat(harness.count("backstop.panics", "source", "handler"))
                    .as("backstop.panics{source=handler}").isEqualTo(N);
            softly.assertThat(errorIdsLoggedFor("handler")).as("error ids of the handler ERROR lines, in order")
                    .isEqualTo(bodyIds);
            softly.assertThat(harness.errors()).as("ERROR lines: the child's, then each request's").hasSize(N + 1);
            softly.assertThat(harness.count("backstop.panics", "source", "child")).isEqualTo(1);
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // One object thrown by many child tasks, or many executor tasks

    /**
     * N requests, each with a child task that throws the same pre-built exception: N child panics, each logged and
     * counted, and each request's 500 carries its own child's error id (the hand-off through {@code await()} within
     * the request is still not reported again).
     */
    @ParameterizedTest
    @EnumSource(Container.class)
    void childTasksOfManyRequestsThrowingOneSharedObjectAreEachAPanic(Container container) throws Exception {
        PrebuiltFailure quotaExceeded = new PrebuiltFailure("quota exceeded");
        ServletServer server = harness.server(container, filter())
                .route("/fanout", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.builder(request).name("quota").open()) {
                        tasks.go("check", () -> {
                            throw quotaExceeded;
                        });
                        tasks.await();
                    }
                })
                .start();

        List<String> bodyIds = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            bodyIds.add(errorIdOf(get(server, "/fanout")));
        }

        SoftAssertions.assertSoftly(softly -> {
            softly.assertThat(bodyIds).as("error ids in the bodies of the %d 500s", N).doesNotHaveDuplicates();
            softly.assertThat(harness.count("backstop.panics", "source", "child"))
                    .as("backstop.panics{source=child}").isEqualTo(N);
            softly.assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "panic"))
                    .as("backstop.tasks{outcome=panic}").isEqualTo(N);
            softly.assertThat(errorIdsLoggedFor("child"))
                    .as("error ids of the child ERROR lines, in order: each request's 500 carries its child's")
                    .isEqualTo(bodyIds);
            softly.assertThat(harness.errors()).as("ERROR lines").hasSize(N);
            softly.assertThat(harness.count("backstop.panics", "source", "handler"))
                    .as("the hand-off through await() is not a handler panic").isZero();
        });
    }

    /** How a task reaches a guarded executor. */
    enum Submission { EXECUTE, SUBMIT_RUNNABLE, SUBMIT_CALLABLE }

    /** N tasks of a guarded executor that throw the same object are N executor panics. */
    @ParameterizedTest
    @EnumSource(Submission.class)
    void guardedExecutorTasksThrowingOneSharedObjectAreEachAPanic(Submission submission) throws Exception {
        PrebuiltFailure noCapacity = new PrebuiltFailure("no capacity");
        Backstop backstop = Backstop.builder().meterRegistry(harness.registry()).logStormInterval(Duration.ZERO)
                .build();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        harness.closeAfter(pool::shutdownNow);
        ExecutorService executor = backstop.guard(pool);

        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            switch (submission) {
                case EXECUTE -> executor.execute(() -> {
                    throw noCapacity;
                });
                case SUBMIT_RUNNABLE -> futures.add(executor.submit((Runnable) () -> {
                    throw noCapacity;
                }));
                case SUBMIT_CALLABLE -> futures.add(executor.submit(() -> {
                    throw noCapacity;
                }));
            }
        }
        executor.shutdown();
        assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).as("every task ran").isTrue();
        for (Future<?> future : futures) {
            assertThat(catchThrowable(future::get)).isInstanceOf(ExecutionException.class).cause()
                    .isSameAs(noCapacity);
        }

        SoftAssertions.assertSoftly(softly -> {
            softly.assertThat(harness.count("backstop.panics", "source", "executor"))
                    .as("backstop.panics{source=executor}").isEqualTo(N);
            softly.assertThat(harness.errors()).as("ERROR lines").hasSize(N);
            softly.assertThat(errorIdsLoggedFor("executor")).as("error ids of the ERROR lines")
                    .hasSize(N).doesNotHaveDuplicates();
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Across filters, Backstops and registries

    /** What reported the shared object first, to another registry than the filter under test. */
    enum FirstReport { CHILD_TASK_BEHIND_ANOTHER_FILTER, TASK_OF_ANOTHER_BACKSTOPS_EXECUTOR }

    static Stream<Arguments> firstReportsOnEachContainer() {
        return Stream.of(Container.values()).flatMap(container -> Stream.of(FirstReport.values())
                .map(first -> Arguments.of(container, first)));
    }

    /**
     * An object another pipeline (another filter or Backstop, another registry) already reported is thrown behind
     * the filter under test: that filter logs and counts it in its own registry, with an error id of its own.
     */
    @ParameterizedTest
    @MethodSource("firstReportsOnEachContainer")
    void aFailureAnotherPipelineReportedIsCountedByTheFilterItReachesNext(Container container, FirstReport first)
            throws Exception {
        PrebuiltFailure tenantSuspended = new PrebuiltFailure("tenant suspended");
        SimpleMeterRegistry otherRegistry = new SimpleMeterRegistry();
        String firstErrorId = switch (first) {
            case CHILD_TASK_BEHIND_ANOTHER_FILTER -> {
                TestServer other = harness.jetty(RecoveryFilter.builder().meterRegistry(otherRegistry)
                                .logStormInterval(Duration.ZERO).build())
                        .route("/other", (request, response) -> {
                            try (ChildTasks tasks = ChildTasks.open(request)) {
                                tasks.go(() -> {
                                    throw tenantSuspended;
                                });
                                tasks.await();
                            }
                        })
                        .start();
                yield errorIdOf(get(other, "/other"));
            }
            case TASK_OF_ANOTHER_BACKSTOPS_EXECUTOR -> {
                Backstop other = Backstop.builder().meterRegistry(otherRegistry).logStormInterval(Duration.ZERO)
                        .build();
                ExecutorService pool = Executors.newSingleThreadExecutor();
                harness.closeAfter(pool::shutdownNow);
                ExecutorService executor = other.guard(pool);
                executor.execute(() -> {
                    throw tenantSuspended;
                });
                executor.shutdown();
                assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
                yield errorIdsLoggedFor("executor").get(0);
            }
        };
        assertThat(Meters.total(otherRegistry, "backstop.panics")).as("reported by the other pipeline").isEqualTo(1);

        ServletServer server = harness.server(container, filter())
                .route("/account", (request, response) -> {
                    throw tenantSuspended;
                })
                .start();
        String errorId = errorIdOf(get(server, "/account"));

        SoftAssertions.assertSoftly(softly -> {
            softly.assertThat(errorId).as("the error id of the 500").isNotEqualTo(firstErrorId);
            softly.assertThat(harness.count("backstop.panics", "source", "handler"))
                    .as("backstop.panics{source=handler} in the registry of the filter it reached").isEqualTo(1);
            softly.assertThat(errorIdsLoggedFor("handler")).as("the handler ERROR line").containsExactly(errorId);
            softly.assertThat(Meters.total(otherRegistry, "backstop.panics"))
                    .as("the other registry keeps its one panic").isEqualTo(1);
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Within one report chain, a failure is still recorded once (these hold today and must keep holding)

    /** How a handler lets the ChildTaskException of its own group escape. */
    enum Escape { AS_IS, ITS_CAUSE, WRAPPED_IN_SERVLET_EXCEPTION }

    static Stream<Arguments> escapesOnEachContainer() {
        return Stream.of(Container.values()).flatMap(container -> Stream.of(Escape.values())
                .map(escape -> Arguments.of(container, escape)));
    }

    /**
     * Guard: a child's panic handed to its own handler through {@code await()} in the same request is logged and
     * counted once, as a child panic, and the 500 carries the child's error id, however the handler lets it escape.
     */
    @ParameterizedTest
    @MethodSource("escapesOnEachContainer")
    void aChildPanicHandedToItsOwnHandlerIsRecordedOnceWithTheChildsErrorId(Container container, Escape escape)
            throws Exception {
        ServletServer server = harness.server(container, filter())
                .route("/fanout", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.builder(request).name("fanout").open()) {
                        tasks.go("inventory", () -> {
                            throw new IllegalStateException("inventory service broke");
                        });
                        tasks.await();
                    } catch (ChildTaskException e) {
                        switch (escape) {
                            case ITS_CAUSE -> throw e.getCause();
                            case WRAPPED_IN_SERVLET_EXCEPTION -> throw new ServletException("fan-out failed", e);
                            default -> throw e;
                        }
                    }
                })
                .start();

        String errorId = errorIdOf(get(server, "/fanout"));

        assertThat(harness.errors()).as("ERROR lines").hasSize(1);
        assertThat(errorIdsLoggedFor("child")).as("the child's ERROR line carries the id of the 500")
                .containsExactly(errorId);
        assertThat(harness.count("backstop.panics", "source", "child", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.count("backstop.panics", "source", "handler")).isZero();
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "panic")).isEqualTo(1);
    }

    /**
     * Guard: one failure passing two Backstop filters of one chain is logged once and counted once, in whichever
     * registry. After a committed response Tomcat has no quiet abort, so the inner filter rethrows the failure through
     * the outer one; Jetty aborts it in the inner filter.
     */
    @ParameterizedTest
    @EnumSource(Container.class)
    void aFailurePassingTwoFiltersOfOneChainIsRecordedOnce(Container container) throws Exception {
        SimpleMeterRegistry outerRegistry = new SimpleMeterRegistry();
        ServletServer server = harness.server(container, RecoveryFilter.builder().meterRegistry(outerRegistry)
                .logStormInterval(Duration.ZERO).build());
        addInnerFilter(server, filter());
        server.route("/report", (request, response) -> {
            ServletOutputStream out = response.getOutputStream();
            out.write("partial-report".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            throw new IllegalStateException("broke halfway");
        }).start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/report", true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        await().atMost(Duration.ofSeconds(5)).until(() -> !harness.errors().isEmpty());
        assertThat(harness.errors()).as("ERROR lines").hasSize(1);
        assertThat(harness.total("backstop.panics") + Meters.total(outerRegistry, "backstop.panics"))
                .as("panics counted in both registries together").isEqualTo(1);
    }

    // ---------------------------------------------------------------------------------------------------------

    /** A filter on this test's registry that logs every panic in full. */
    private RecoveryFilter filter() {
        return harness.filter().logStormInterval(Duration.ZERO).build();
    }

    /** Maps {@code filter} after the server's own one, so that it runs inside it. */
    private static void addInnerFilter(ServletServer server, Filter filter) {
        if (server instanceof TestServer jetty) {
            FilterHolder holder = new FilterHolder(filter);
            holder.setAsyncSupported(true);
            jetty.context().addFilter(holder, "/*",
                    EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
        } else if (server instanceof TomcatServer tomcat) {
            FilterDef definition = new FilterDef();
            definition.setFilterName("inner-recovery");
            definition.setFilter(filter);
            definition.setFilterClass(filter.getClass().getName());
            definition.setAsyncSupported("true");
            tomcat.context().addFilterDef(definition);
            FilterMap mapping = new FilterMap();
            mapping.setFilterName("inner-recovery");
            mapping.addURLPattern("/*");
            for (DispatcherType type : EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC,
                    DispatcherType.ERROR)) {
                mapping.setDispatcher(type.name());
            }
            tomcat.context().addFilterMap(mapping);
        } else {
            throw new IllegalArgumentException("unknown server " + server);
        }
    }

    private HttpResponse<String> get(ServletServer server, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The error id a 500 carries; fails the test when the answer is not a 500 with one. */
    private static String errorIdOf(HttpResponse<String> response) {
        assertThat(response.statusCode()).as("status of %s", response.uri()).isEqualTo(500);
        String errorId = JsonPath.from(response.body()).getString("errorId");
        assertThat(errorId).as("errorId in the body of %s", response.uri()).matches("[0-9a-f]{16}");
        return errorId;
    }

    /** The error ids of the ERROR lines of panics from {@code source}, in the order they were logged. */
    private List<String> errorIdsLoggedFor(String source) {
        return harness.errors().stream()
                .filter(event -> event.getFormattedMessage().contains(" source=" + source))
                .map(ILoggingEvent::getMDCPropertyMap)
                .map(mdc -> mdc.get("errorId"))
                .toList();
    }
}
