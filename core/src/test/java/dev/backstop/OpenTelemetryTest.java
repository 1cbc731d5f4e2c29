package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.TestServer;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.restassured.path.json.JsonPath;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Traced services: with the OpenTelemetry API on the class path and a server span per request (started here by a
 * filter in front of RecoveryFilter, as the Java agent's would be), a panic is an {@code exception} event on the
 * request's span with status ERROR, its log line and its 500 name the trace, and child tasks and guarded executors
 * run in the request's trace. Client aborts and successes leave the span alone.
 */
class OpenTelemetryTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private SdkTracerProvider provider;
    private Tracer tracer;

    @BeforeEach
    void tracing() {
        provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
        tracer = provider.get("test");
    }

    @AfterEach
    void stopTracing() {
        provider.close();
    }

    /** The server span of each request, current while the rest of the chain runs. */
    private Filter serverSpans() {
        return (request, response, chain) -> {
            Span span = tracer.spanBuilder("GET " + ((HttpServletRequest) request).getRequestURI()).startSpan();
            try (Scope ignored = span.makeCurrent()) {
                chain.doFilter(request, response);
            } finally {
                span.end();
            }
        };
    }

    private SpanData onlySpan() {
        await().atMost(Duration.ofSeconds(5)).until(() -> spans.getFinishedSpanItems().size() == 1);
        return spans.getFinishedSpanItems().get(0);
    }

    private static List<EventData> exceptionEvents(SpanData span) {
        return span.getEvents().stream().filter(event -> event.getName().equals("exception")).toList();
    }

    @Test
    void aHandlerPanicIsAnExceptionEventOnTheServerSpanAndItsLineAndBodyNameTheTrace() throws Exception {
        TestServer server = harness.jetty().outerFilter(serverSpans())
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("traced failure");
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/panic");

        SpanData span = onlySpan();
        JsonPath body = JsonPath.from(exchange.body());
        String errorId = body.getString("errorId");
        assertThat(body.getString("traceId")).isEqualTo(span.getTraceId());
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(exceptionEvents(span)).singleElement().satisfies(event -> {
            assertThat(event.getAttributes().asMap().toString()).contains("IllegalStateException", "traced failure",
                    "backstop.error_id=" + errorId);
        });
        ILoggingEvent line = harness.errors().get(0);
        assertThat(line.getFormattedMessage()).contains("traceId=" + span.getTraceId(), "spanId=" + span.getSpanId());
    }

    @Test
    void aChildPanicIsRecordedOnTheRequestsSpanOnceAndTheChildRunsInTheRequestsTrace() throws Exception {
        AtomicReference<String> childTrace = new AtomicReference<>();
        TestServer server = harness.jetty().outerFilter(serverSpans())
                .route("/fanout", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        tasks.go("traced", () -> childTrace.set(Span.current().getSpanContext().getTraceId()));
                        tasks.go("failing", () -> {
                            throw new IllegalStateException("child failure");
                        });
                        tasks.await();
                    }
                })
                .start();

        RawHttp.get(server.port(), "/fanout");

        SpanData span = onlySpan();
        assertThat(childTrace.get()).isEqualTo(span.getTraceId());
        assertThat(exceptionEvents(span)).as("recorded once, by the child; not again when it reached the filter")
                .singleElement().satisfies(event ->
                        assertThat(event.getAttributes().asMap().toString()).contains("child failure"));
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(harness.errors()).singleElement().satisfies(line ->
                assertThat(line.getFormattedMessage()).contains("source=child", "traceId=" + span.getTraceId()));
    }

    @Test
    void aSuccessAndAnAbortRequestedLeaveTheSpanAlone() throws Exception {
        TestServer server = harness.jetty().outerFilter(serverSpans())
                .route("/ok", (request, response) -> response.getWriter().write("fine"))
                .route("/abort", (request, response) -> {
                    throw new AbortRequestException("on purpose");
                })
                .start();

        RawHttp.get(server.port(), "/ok");
        RawHttp.get(server.port(), "/abort");

        await().atMost(Duration.ofSeconds(5)).until(() -> spans.getFinishedSpanItems().size() == 2);
        assertThat(spans.getFinishedSpanItems()).allSatisfy(span -> {
            assertThat(span.getEvents()).isEmpty();
            assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
        });
    }

    @Test
    void theTraceIdCanBeLeftOutOfTheBody() throws Exception {
        TestServer server = harness.jetty(harness.filter().problemTraceId(false).build()).outerFilter(serverSpans())
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("traced failure");
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/panic");

        assertThat(JsonPath.from(exchange.body()).getString("traceId")).isNull();
        assertThat(exceptionEvents(onlySpan())).hasSize(1);
    }

    @Test
    void aGuardedExecutorRunsItsTasksInTheSubmittersTraceAndRecordsTheirPanics() throws Exception {
        try (Backstop backstop = Backstop.builder().meterRegistry(harness.registry()).build()) {
            ExecutorService executor = harness.shutdownAfter(backstop.guard(Executors.newSingleThreadExecutor()));
            Span span = tracer.spanBuilder("job").startSpan();
            String seen;
            try (Scope ignored = span.makeCurrent()) {
                seen = executor.submit(() -> Span.current().getSpanContext().getTraceId()).get(5, TimeUnit.SECONDS);
                executor.execute(() -> {
                    throw new IllegalStateException("job failure");
                });
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> harness.errors().size() == 1);
            span.end();

            assertThat(seen).isEqualTo(span.getSpanContext().getTraceId());
            assertThat(exceptionEvents(onlySpan())).hasSize(1);
        }
    }

    @Test
    void theCurrentObservationGetsThePanicWhenARegistryIsGiven() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        ObservationRegistry observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public void onError(Observation.Context context) {
                errors.add(context.getError());
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
        Backstop backstop = harness.closeAfter(Backstop.builder().meterRegistry(harness.registry())
                .observationRegistry(observations).build());
        TestServer server = harness.jetty(RecoveryFilter.builder().backstop(backstop).build())
                .outerFilter((request, response, chain) -> {
                    Observation observation = Observation.start("http.server", observations);
                    try (Observation.Scope ignored = observation.openScope()) {
                        chain.doFilter(request, response);
                    } finally {
                        observation.stop();
                    }
                })
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("observed failure");
                })
                .start();

        RawHttp.get(server.port(), "/panic");

        assertThat(errors).singleElement().satisfies(error -> assertThat(error).hasMessage("observed failure"));
    }

    /**
     * A failure of request A handed to Backstop on the thread of request B (a long poll resumed by another request;
     * Jersey's {@code AsyncResponse.resume(Throwable)} called from another resource) is recorded in A's trace: B's
     * span, which succeeded, gets no exception event and no ERROR status, and A's line and A's 500 name A's trace.
     * The same when the hand-over comes while A's dispatch (the one that started async mode) is still running.
     */
    @ParameterizedTest(name = "while A''s dispatch is still running: {0}")
    @ValueSource(booleans = {false, true})
    void aFailureOfOneRequestHandedOverOnAnotherRequestsThreadIsRecordedInItsOwnTrace(boolean whileDispatching)
            throws Exception {
        AtomicReference<AsyncContext> waiting = new AtomicReference<>();
        AtomicReference<String> traceOfA = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch handedOver = new CountDownLatch(1);
        CountDownLatch dispatchOfAReturned = new CountDownLatch(1);
        // The server span ends when the request does, as the agent's does: for an async request, at its completion.
        TestServer server = harness.jetty().outerFilter((request, response, chain) -> {
            Span span = tracer.spanBuilder("GET " + ((HttpServletRequest) request).getRequestURI()).startSpan();
            try (Scope ignored = span.makeCurrent()) {
                chain.doFilter(request, response);
            } finally {
                if (request.isAsyncStarted()) {
                    request.getAsyncContext().addListener(new AsyncListener() {
                        @Override
                        public void onComplete(AsyncEvent event) {
                            span.end();
                        }

                        @Override
                        public void onTimeout(AsyncEvent event) {
                        }

                        @Override
                        public void onError(AsyncEvent event) {
                        }

                        @Override
                        public void onStartAsync(AsyncEvent event) {
                        }
                    });
                } else {
                    span.end();
                }
                if (((HttpServletRequest) request).getRequestURI().equals("/wait")) {
                    dispatchOfAReturned.countDown();
                }
            }
        })
                .route("/wait", (request, response) -> {
                    traceOfA.set(Span.current().getSpanContext().getTraceId());
                    AsyncContext async = request.startAsync();
                    async.setTimeout(30_000);
                    waiting.set(async);
                    started.countDown();
                    if (whileDispatching) {
                        assertThat(handedOver.await(10, TimeUnit.SECONDS)).isTrue();
                    }
                })
                .route("/resume", (request, response) -> {
                    RecoveryFilter.fail(waiting.get(), new IllegalStateException("A's downstream call failed"));
                    handedOver.countDown();
                    response.getWriter().write("resumed");
                })
                .start();
        HttpClient client = HttpClient.newHttpClient();
        CompletableFuture<HttpResponse<String>> a = client.sendAsync(
                HttpRequest.newBuilder(server.uri("/wait")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        if (!whileDispatching) {
            assertThat(dispatchOfAReturned.await(10, TimeUnit.SECONDS)).isTrue();
        }

        HttpResponse<String> b = client.send(HttpRequest.newBuilder(server.uri("/resume")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(b.statusCode()).isEqualTo(200);
        HttpResponse<String> answerOfA = a.get(10, TimeUnit.SECONDS);
        assertThat(answerOfA.statusCode()).isEqualTo(500);

        await().atMost(Duration.ofSeconds(5)).until(() -> this.spans.getFinishedSpanItems().size() == 2);
        SpanData spanOfB = this.spans.getFinishedSpanItems().stream()
                .filter(span -> span.getName().equals("GET /resume")).findFirst().orElseThrow();
        SpanData spanOfA = this.spans.getFinishedSpanItems().stream()
                .filter(span -> span.getName().equals("GET /wait")).findFirst().orElseThrow();
        assertThat(traceOfA.get()).isEqualTo(spanOfA.getTraceId()).isNotEqualTo(spanOfB.getTraceId());

        assertThat(spanOfB.getEvents()).as("exception events on B's span, which succeeded")
                .noneMatch(event -> event.getName().equals("exception"));
        assertThat(spanOfB.getStatus().getStatusCode()).as("B's span status").isNotEqualTo(StatusCode.ERROR);
        assertThat(exceptionEvents(spanOfA)).as("A's span").hasSize(1);
        assertThat(JsonPath.from(answerOfA.body()).getString("traceId")).as("the trace A's 500 names")
                .isEqualTo(traceOfA.get());
        assertThat(harness.errors()).singleElement().satisfies(line ->
                assertThat(line.getFormattedMessage()).as("A's panic line").contains("A's downstream call failed")
                        .contains("traceId=" + traceOfA.get()));
    }

    /** Server spans for the requests to {@code path} only; the others run untraced. */
    private Filter serverSpansOnlyFor(String path) {
        Filter spans = serverSpans();
        return (request, response, chain) -> {
            if (((HttpServletRequest) request).getRequestURI().equals(path)) {
                spans.doFilter(request, response, chain);
            } else {
                chain.doFilter(request, response);
            }
        };
    }

    /**
     * The same hand-over when request A is not traced at all (an untraced route; only some paths get server spans):
     * A's panic stays off B's span, and neither A's 500 nor its line names B's trace.
     */
    @Test
    void aFailureOfAnUntracedRequestHandedOverOnATracedRequestsThreadStaysOutOfThatTrace() throws Exception {
        AtomicReference<AsyncContext> waiting = new AtomicReference<>();
        AtomicReference<String> traceOfA = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        TestServer server = harness.jetty().outerFilter(serverSpansOnlyFor("/resume"))
                .route("/wait", (request, response) -> {
                    traceOfA.set(Span.current().getSpanContext().getTraceId());
                    AsyncContext async = request.startAsync();
                    async.setTimeout(30_000);
                    waiting.set(async);
                    started.countDown();
                })
                .route("/resume", (request, response) -> {
                    RecoveryFilter.fail(waiting.get(), new IllegalStateException("A's downstream call failed"));
                    response.getWriter().write("resumed");
                })
                .start();
        HttpClient client = HttpClient.newHttpClient();
        CompletableFuture<HttpResponse<String>> a = client.sendAsync(
                HttpRequest.newBuilder(server.uri("/wait")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        HttpResponse<String> b = client.send(HttpRequest.newBuilder(server.uri("/resume")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(b.statusCode()).isEqualTo(200);
        HttpResponse<String> answerOfA = a.get(10, TimeUnit.SECONDS);
        assertThat(answerOfA.statusCode()).isEqualTo(500);

        await().atMost(Duration.ofSeconds(5)).until(() -> spans.getFinishedSpanItems().size() == 1);
        SpanData spanOfB = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("GET /resume"))
                .findFirst().orElseThrow();
        String traceOfB = spanOfB.getTraceId();

        assertThat(spanOfB.getEvents()).as("exception events on B's span, which succeeded")
                .noneMatch(event -> event.getName().equals("exception"));
        assertThat(spanOfB.getStatus().getStatusCode()).as("B's span status").isNotEqualTo(StatusCode.ERROR);
        assertThat(JsonPath.from(answerOfA.body()).getString("traceId")).as("the trace A's 500 names")
                .isNotEqualTo(traceOfB);
        assertThat(harness.errors()).singleElement().satisfies(line ->
                assertThat(line.getFormattedMessage()).as("A's panic line").contains("A's downstream call failed")
                        .doesNotContain("traceId=" + traceOfB));
    }
}
