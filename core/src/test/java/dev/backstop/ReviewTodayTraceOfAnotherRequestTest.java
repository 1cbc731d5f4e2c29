package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.restassured.path.json.JsonPath;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Review 17's fix keeps a failure of request A, handed over on request B's thread, out of B's trace only when A had a
 * span of its own. When A had none (an untraced route, a sampler-less setup where only some paths get server spans,
 * a baggage-only context), B's span is left current and A's panic is recorded on B, which succeeded: B's span gets
 * status ERROR and A's exception event, A's 500 and log line name B's trace (docs/tracing.md: "never on the other's").
 */
class ReviewTodayTraceOfAnotherRequestTest {

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

    private Filter serverSpans() {
        return (request, response, chain) -> {
            if (!((HttpServletRequest) request).getRequestURI().equals("/resume")) {
                chain.doFilter(request, response); // only B's route is traced
                return;
            }
            Span span = tracer.spanBuilder("GET " + ((HttpServletRequest) request).getRequestURI()).startSpan();
            try (Scope ignored = span.makeCurrent()) {
                chain.doFilter(request, response);
            } finally {
                span.end();
            }
        };
    }

    @Test
    void aFailureOfAnUntracedRequestHandedOverOnATracedRequestsThreadStaysOutOfThatTrace() throws Exception {
        AtomicReference<AsyncContext> waiting = new AtomicReference<>();
        AtomicReference<String> traceOfA = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        TestServer server = harness.jetty().outerFilter(serverSpans())
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
