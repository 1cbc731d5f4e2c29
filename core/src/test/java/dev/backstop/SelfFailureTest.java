package dev.backstop;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.TestServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.restassured.response.Response;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Field;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.FilterMapping;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.MDC;
import org.slf4j.spi.MDCAdapter;

/**
 * Backstop's own parts failing: a meter registry that throws (on every call, or when it makes a counter), an
 * {@link ErrorResponder} that throws, a response whose writer throws, an MDC adapter that throws. The user's failure
 * still gets its 500 or abort and its ERROR line; Backstop's own failure is reported once; nothing reaches the
 * container as Backstop's fault. What users throw at Backstop (broken throwables, hostile messages and paths) is
 * {@link HostileInputTest}.
 */
class SelfFailureTest {

    private static final Pattern ERROR_ID = Pattern.compile("[0-9a-f]{16}");

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();
    private TestServer server;

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String errorIdIn(String body) {
        Matcher matcher = ERROR_ID.matcher(body);
        assertThat(matcher.find()).as(body).isTrue();
        return matcher.group();
    }

    private List<ILoggingEvent> panicLines() {
        return harness.errors().stream().filter(e -> e.getFormattedMessage().startsWith("panic ")).toList();
    }

    private TestServer routes(RecoveryFilter filter) {
        return harness.jetty(filter)
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("user failure");
                })
                .route("/child", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        tasks.go("fails", () -> {
                            throw new IllegalStateException("child failure");
                        });
                        tasks.await();
                    }
                });
    }

    /** Every way of making a meter fails. */
    static final class BrokenRegistry extends SimpleMeterRegistry {
        @Override
        protected Counter newCounter(Meter.Id id) {
            throw new IllegalStateException("registry is down");
        }

        @Override
        protected <T> io.micrometer.core.instrument.Gauge newGauge(Meter.Id id, T obj, ToDoubleFunction<T> f) {
            throw new IllegalStateException("registry is down");
        }

        @Override
        protected io.micrometer.core.instrument.Timer newTimer(Meter.Id id,
                DistributionStatisticConfig distributionStatisticConfig, PauseDetector pauseDetector) {
            throw new IllegalStateException("registry is down");
        }
    }

    @Test
    void registryThatThrowsOnEveryCallCostsNeitherThe500NorTheLogAndIsReportedOnce() throws Exception {
        server = routes(RecoveryFilter.builder().meterRegistry(new BrokenRegistry()).build()).start();

        for (int i = 0; i < 5; i++) {
            HttpResponse<String> handler = get("/panic");
            assertThat(handler.statusCode()).isEqualTo(500);
            assertThat(handler.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/problem+json"));
            errorIdIn(handler.body());
            HttpResponse<String> child = get("/child");
            assertThat(child.statusCode()).isEqualTo(500);
            errorIdIn(child.body());
        }

        // Ten panics, ten ERROR lines or folded ones: the log is a channel that still works.
        assertThat(panicLines()).hasSizeGreaterThanOrEqualTo(2); // the first of each kind, with its stack
        assertThat(harness.logs().all())
                .filteredOn(e -> e.getFormattedMessage().startsWith("backstop could not update a meter"))
                .as("the broken registry, reported once").hasSize(1);
    }

    @Test
    void meterRegistryThatThrowsDoesNotCostTheClientIts500() throws Exception {
        SimpleMeterRegistry broken = new SimpleMeterRegistry() {
            @Override
            protected Counter newCounter(Meter.Id id) {
                throw new IllegalStateException("registry is broken");
            }
        };
        server = harness.jetty(RecoveryFilter.builder().meterRegistry(broken).build())
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("boom");
                })
                .start();

        Response response = given().port(server.port()).get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.jsonPath().getString("errorId")).matches("[0-9a-f]{16}");
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.logs().all()).anySatisfy(event ->
                assertThat(event.getFormattedMessage()).startsWith("backstop could not update a meter"));
    }

    @Test
    void responderThatThrowsGivesThePlain500WithTheSameIdAndOneReportOfItsOwn() throws Exception {
        server = routes(harness.filter().errorResponder((request, response, failure) -> {
            throw new IllegalArgumentException("responder is broken");
        }).build()).start();

        HttpResponse<String> response = get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(response.body()).doesNotContain("user failure", "responder is broken", "Exception");
        String errorId = errorIdIn(response.body());
        assertThat(panicLines()).singleElement().satisfies(
                e -> assertThat(e.getFormattedMessage()).contains("errorId=" + errorId));
        assertThat(harness.errors()).filteredOn(e -> e.getFormattedMessage().startsWith("backstop respond failed"))
                .singleElement().satisfies(e -> {
                    assertThat(e.getFormattedMessage()).contains("errorId=" + errorId, "IllegalArgumentException");
                    assertThat(e.getThrowableProxy().getMessage()).isEqualTo("responder is broken");
                });
        assertThat(harness.count("backstop.internal.failures", "stage", "respond")).isEqualTo(1);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
    }

    /** A filter in front of Backstop whose response cannot write a body at all. */
    static final class BrokenWriterFilter implements Filter {
        @Override
        public void doFilter(jakarta.servlet.ServletRequest request, jakarta.servlet.ServletResponse response,
                jakarta.servlet.FilterChain chain) throws IOException, jakarta.servlet.ServletException {
            chain.doFilter(request, new HttpServletResponseWrapper((HttpServletResponse) response) {
                @Override
                public PrintWriter getWriter() throws IOException {
                    throw new IOException("writer is broken");
                }

                @Override
                public ServletOutputStream getOutputStream() throws IOException {
                    throw new IOException("output stream is broken");
                }
            });
        }
    }

    @Test
    void responseWhoseWriterThrowsIsAbortedNotFinishedAndTheFailureIsLoggedOnce() throws Exception {
        server = routes(harness.filter().build());
        FilterHolder broken = new FilterHolder(new BrokenWriterFilter());
        broken.setName("broken-writer");
        server.context().getServletHandler().addFilter(broken);
        FilterMapping inFront = new FilterMapping();
        inFront.setFilterName("broken-writer");
        inFront.setPathSpec("/*");
        inFront.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST));
        server.context().getServletHandler().prependFilterMapping(inFront);
        server.start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/panic", true);

        // No clean answer could be written: the client must not take what it got for a whole response.
        assertThat(exchange.text()).doesNotContain("user failure", "IllegalStateException");
        assertThat(exchange.head().startsWith("HTTP/1.1 200")).isFalse();
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(panicLines()).hasSize(1);
        assertThat(harness.errors())
                .filteredOn(e -> e.getFormattedMessage().startsWith("backstop standard-respond failed"))
                .hasSize(1);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
        assertThat(harness.count("backstop.internal.failures", "stage", "standard-respond")).isEqualTo(1);
    }

    /** SLF4J's MDC adapter, replaced for one test by one that throws on every call. */
    static final class BrokenMdc implements MDCAdapter {
        @Override
        public void put(String key, String val) {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public String get(String key) {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public void remove(String key) {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public void clear() {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public Map<String, String> getCopyOfContextMap() {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public void setContextMap(Map<String, String> contextMap) {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public void pushByKey(String key, String value) {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public String popByKey(String key) {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public Deque<String> getCopyOfDequeByKey(String key) {
            throw new IllegalStateException("mdc is broken");
        }

        @Override
        public void clearDequeByKey(String key) {
            throw new IllegalStateException("mdc is broken");
        }
    }

    @Test
    void mdcAdapterThatThrowsCostsNeitherThe500NorTheErrorLine() throws Exception {
        server = routes(harness.filter().build()).start();
        Field adapterField;
        try {
            adapterField = MDC.class.getDeclaredField("MDC_ADAPTER"); // SLF4J 2.0.13 and later
        } catch (NoSuchFieldException older) {
            adapterField = MDC.class.getDeclaredField("mdcAdapter");
        }
        adapterField.setAccessible(true);
        Object original = adapterField.get(null);
        HttpResponse<String> handler;
        HttpResponse<String> child;
        try {
            adapterField.set(null, new BrokenMdc());
            handler = get("/panic");
            child = get("/child");
        } finally {
            adapterField.set(null, original);
        }

        assertThat(handler.statusCode()).isEqualTo(500);
        assertThat(child.statusCode()).isEqualTo(500);
        String handlerId = errorIdIn(handler.body());
        String childId = errorIdIn(child.body());
        assertThat(panicLines()).extracting(ILoggingEvent::getFormattedMessage).satisfiesExactlyInAnyOrder(
                line -> assertThat(line).contains("errorId=" + handlerId, "source=handler"),
                line -> assertThat(line).contains("errorId=" + childId, "source=child"));
        assertThat(harness.count("backstop.panics")).isEqualTo(2);
        assertThat(harness.at(Level.ERROR)).hasSize(2);
    }
}
