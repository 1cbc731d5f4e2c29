package dev.backstop.jersey;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.AbortRequestException;
import dev.backstop.jersey.testing.CapturedLogs;
import dev.backstop.jersey.testing.JerseyServer;
import dev.backstop.jersey.testing.JulRecords;
import dev.backstop.jersey.testing.RawHttp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.container.Suspended;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.MessageBodyWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.glassfish.jersey.server.ResourceConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BackstopFeature} on Jersey 4 behind RecoveryFilter on a real Jetty 12, over real HTTP: each failure Jersey
 * would answer, end cleanly or swallow itself is logged once on {@code dev.backstop} with the error id the client
 * sees, counted once, and answered with Backstop's 500 or an aborted connection; what Jersey and the application
 * answer on purpose (404, 400, their own mappers) is left alone; and Jersey logs nothing of what Backstop answered.
 * With {@code -Dbackstop.jersey.feature=off} the tests of what the feature changes fail.
 */
class BackstopFeatureTest {

    private static final int SIXTEEN_KIB = 16 * 1024;
    private static final Pattern ERROR_ID = Pattern.compile("\"errorId\":\"([0-9a-f]{16})\"");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final CapturedLogs backstop = CapturedLogs.of("dev.backstop");
    private final CapturedLogs jetty = CapturedLogs.of("org.eclipse.jetty");
    private final JulRecords jersey = JulRecords.of("org.glassfish.jersey");
    private final ExecutorService resumer = Executors.newSingleThreadExecutor();
    private JerseyServer server;

    @AfterEach
    void stop() throws Exception {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            resumer.shutdownNow();
            backstop.close();
            jetty.close();
            jersey.close();
        }
    }

    /** An application's failure that it maps itself. */
    public static final class OrderLocked extends RuntimeException {
        OrderLocked(String message) {
            super(message);
        }
    }

    /** An entity written by {@link ReportWriter}, which fails after {@code size} bytes. */
    public record Report(int size) {
    }

    /** The application's resources. */
    @Path("/")
    public static final class Orders {
        private final ExecutorService resumer;

        public Orders(ExecutorService resumer) {
            this.resumer = resumer;
        }

        @GET
        @Path("ok")
        @Produces(MediaType.TEXT_PLAIN)
        public String ok() {
            return "ok";
        }

        @GET
        @Path("panic")
        @Produces(MediaType.APPLICATION_JSON)
        public String panic() {
            throw new IllegalStateException("order 42 failed: secret hunter2");
        }

        @GET
        @Path("async-panic")
        @Produces(MediaType.APPLICATION_JSON)
        public void asyncPanic(@Suspended AsyncResponse async) {
            resumer.execute(() -> async.resume(new IllegalStateException("async order failed: secret hunter2")));
        }

        @GET
        @Path("abort")
        public String abort() {
            throw new AbortRequestException();
        }

        @GET
        @Path("bad-request")
        public String badRequest() {
            throw new BadRequestException();
        }

        @GET
        @Path("locked")
        public String locked() {
            throw new OrderLocked("order 42 is locked");
        }

        @GET
        @Path("stream-panic")
        @Produces(MediaType.APPLICATION_OCTET_STREAM)
        public StreamingOutput streamPanic() {
            return out -> {
                out.write(new byte[SIXTEEN_KIB]);
                out.flush(); // on the wire
                throw new IOException("export source went away after 16 KiB");
            };
        }

        @GET
        @Path("writer-panic")
        @Produces(MediaType.APPLICATION_OCTET_STREAM)
        public Report writerPanic() {
            return new Report(SIXTEEN_KIB);
        }

        @GET
        @Path("writer-panic-at-once")
        @Produces(MediaType.APPLICATION_OCTET_STREAM)
        public Report writerPanicAtOnce() {
            return new Report(0);
        }
    }

    /** Writes {@code size} bytes of a {@link Report}, then fails. */
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public static final class ReportWriter implements MessageBodyWriter<Report> {
        @Override
        public boolean isWriteable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
            return type == Report.class;
        }

        @Override
        public void writeTo(Report report, Class<?> type, Type genericType, Annotation[] annotations,
                MediaType mediaType, MultivaluedMap<String, Object> headers, OutputStream out) throws IOException {
            out.write(new byte[report.size()]);
            throw new IllegalStateException("report rendering failed after " + report.size() + " bytes");
        }
    }

    /** The application's mapper for one type of its own. */
    public static final class OrderLockedMapper implements ExceptionMapper<OrderLocked> {
        @Override
        public Response toResponse(OrderLocked locked) {
            return Response.status(409).type(MediaType.TEXT_PLAIN).entity("locked: " + locked.getMessage()).build();
        }
    }

    private ResourceConfig application() {
        return new ResourceConfig().register(new Orders(resumer)).register(ReportWriter.class)
                .register(OrderLockedMapper.class);
    }

    private int start(ResourceConfig config) throws Exception {
        server = JerseyServer.start(registry, config);
        jersey.clear(); // what Jersey says at start (a resource given as an instance, say) is not what is tested
        return server.port();
    }

    private int start() throws Exception {
        return start(JerseyServer.feature(application()));
    }

    // ---- unmapped failures -------------------------------------------------------------------------------------

    @Test
    void anUnmappedResourceFailureIsBackstops500AndJerseyLogsNothing() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(start(), "/api/panic");

        String errorId = assertProblemJson500(exchange);
        assertThat(exchange.text()).doesNotContain("IllegalStateException", "hunter2", "Request failed.");
        assertOnePanic(errorId, "path=/api/panic", "exception=java.lang.IllegalStateException");
        assertThat(count("backstop.responses", "outcome", "error")).isEqualTo(1);
        assertNothingElseLogged();
    }

    @Test
    void aFailurePassedToAsyncResponseResumeIsBackstops500() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(start(), "/api/async-panic");

        String errorId = assertProblemJson500(exchange);
        assertThat(exchange.text()).doesNotContain("IllegalStateException", "hunter2", "Request failed.");
        assertOnePanic(errorId, "path=/api/async-panic", "exception=java.lang.IllegalStateException");
        assertNothingElseLogged();
    }

    @Test
    void anEntityWriterThatFailsBeforeJerseyCommittedIsBackstops500() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(start(), "/api/writer-panic-at-once");

        String errorId = assertProblemJson500(exchange);
        assertOnePanic(errorId, "path=/api/writer-panic-at-once", "report rendering failed after 0 bytes");
        assertNothingElseLogged();
    }

    @Test
    void anAbortRequestExceptionAbortsQuietly() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(start(), "/api/abort");

        assertThat(exchange.text()).as("no status line").isEmpty();
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertNoPanic();
    }

    // ---- failed entity writes ----------------------------------------------------------------------------------

    @Test
    void aStreamingOutputThatFailsOnTheWireAbortsTheConnection() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(start(), "/api/stream-panic", true);

        assertAbortedAfter(exchange, SIXTEEN_KIB);
        assertThat(onlyError().getFormattedMessage()).contains("path=/api/stream-panic",
                "exception=java.io.IOException", "export source went away");
        assertCountedOnceAsAborted();
        assertNothingElseLogged();
    }

    @Test
    void aMessageBodyWriterThatFailsMidBodyAbortsTheConnection() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(start(), "/api/writer-panic", true);

        // Past Jersey's 8 KiB buffer, the body goes out as it is written: without the feature, a clean 200.
        assertAbortedAfter(exchange, SIXTEEN_KIB);
        assertThat(onlyError().getFormattedMessage()).contains("path=/api/writer-panic",
                "exception=java.lang.IllegalStateException", "report rendering failed after 16384 bytes");
        assertCountedOnceAsAborted();
        assertNothingElseLogged();
    }

    // ---- left alone --------------------------------------------------------------------------------------------

    @Test
    void notFoundAndBadRequestAreJerseys() throws Exception {
        int port = start();

        RawHttp.Exchange notFound = RawHttp.get(port, "/api/no-such-order");
        RawHttp.Exchange badRequest = RawHttp.get(port, "/api/bad-request");

        assertThat(notFound.head()).startsWith("HTTP/1.1 404");
        assertThat(badRequest.head()).startsWith("HTTP/1.1 400");
        assertThat(notFound.header("Content-Type")).isNotEqualTo("application/problem+json");
        assertThat(badRequest.header("Content-Type")).isNotEqualTo("application/problem+json");
        assertNoPanic();
    }

    @Test
    void theApplicationsMapperForItsOwnTypeAnswers() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(start(), "/api/locked");

        assertThat(exchange.head()).startsWith("HTTP/1.1 409");
        assertThat(exchange.content()).isEqualTo("locked: order 42 is locked");
        assertNoPanic();
    }

    @Test
    void aResourceThatReturnsIsServedUntouched() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(start(), "/api/ok");

        assertThat(exchange.head()).startsWith("HTTP/1.1 200");
        assertThat(exchange.content()).isEqualTo("ok");
        assertNoPanic();
    }

    /**
     * The README's pattern: an application's catch-all mapper answers every failure itself, and reports it to keep
     * the log line and the count; it wins over the feature's mapper whichever is registered first.
     */
    @ParameterizedTest(name = "feature registered {0}")
    @ValueSource(strings = {"first", "last"})
    void anApplicationsCatchAllMapperAnswersAndKeepsCountingWithReport(String order) throws Exception {
        ResourceConfig config = "first".equals(order)
                ? JerseyServer.feature(new ResourceConfig()).register(new Orders(resumer)).register(ErrorMapper.class)
                : JerseyServer.feature(application().register(ErrorMapper.class));
        int port = start(config);

        RawHttp.Exchange exchange = RawHttp.get(port, "/api/panic");
        RawHttp.Exchange notFound = RawHttp.get(port, "/api/no-such-order");

        assertThat(exchange.head()).startsWith("HTTP/1.1 503");
        String errorId = errorIdOf(exchange.content());
        assertThat(exchange.content()).startsWith("{\"error\":\"unavailable\"");
        assertOnePanic(errorId, "path=/api/panic");
        assertThat(notFound.head()).startsWith("HTTP/1.1 404");
    }

    /**
     * Without RecoveryFilter there is nothing to answer through: Jersey answers 500 as without the feature, and its
     * log says what is missing, next to the failure.
     */
    @Test
    void withoutRecoveryFilterJerseyAnswersAndItsLogSaysWhatIsMissing() throws Exception {
        server = JerseyServer.startUnguarded(JerseyServer.feature(application()));
        jersey.clear();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/api/panic");

        assertThat(exchange.head()).startsWith("HTTP/1.1 500");
        if (JerseyServer.FEATURE_ON) {
            assertThat(String.join("\n", jersey.describe()))
                    .contains("no dev.backstop.RecoveryFilter guards this request")
                    .contains("order 42 failed");
        }
    }

    /** The catch-all mapper the docs show (docs/jersey.md) is the one tested above, line for line. */
    @Test
    void theDocsCatchAllMapperIsTheTestedOne() throws IOException {
        List<String> readme = Files.readAllLines(java.nio.file.Path.of("..", "docs", "jersey.md"),
                StandardCharsets.UTF_8);
        List<String> block = new ArrayList<>();
        boolean inBlock = false;
        for (String line : readme) {
            if (line.equals("```java")) {
                inBlock = true;
                block.clear();
            } else if (inBlock && line.equals("```")) {
                inBlock = false;
                if (block.stream().anyMatch(l -> l.contains("implements ExceptionMapper<Throwable>"))) {
                    break;
                }
            } else if (inBlock) {
                block.add(line);
            }
        }
        java.nio.file.Path source = java.nio.file.Path.of("src", "test", "java", "dev", "backstop", "jersey",
                "ErrorMapper.java");
        List<String> tested = trimmed(Files.readAllLines(source, StandardCharsets.UTF_8));

        assertThat(block).as("the docs' catch-all mapper").anyMatch(l -> l.contains("RecoveryFilter.report"));
        assertThat(Collections.indexOfSubList(tested, trimmed(block))).as("the docs' mapper in ErrorMapper.java")
                .isNotNegative();
    }

    private static List<String> trimmed(List<String> lines) {
        return lines.stream().map(String::strip).filter(line -> !line.isEmpty()).toList();
    }

    // ---- assertions --------------------------------------------------------------------------------------------

    /** Backstop's problem+json 500, as the filter writes it; returns its error id. */
    private static String assertProblemJson500(RawHttp.Exchange exchange) {
        assertThat(exchange.head()).as("what the client got:%n%s", exchange.head()).startsWith("HTTP/1.1 500");
        assertThat(exchange.header("Content-Type")).as("Content-Type of:%n%s", exchange.head())
                .isEqualTo("application/problem+json");
        assertThat(exchange.header("Cache-Control")).isEqualTo("no-store");
        assertThat(exchange.content()).contains("\"status\":500").doesNotContainIgnoringCase("<html");
        return errorIdOf(exchange.content());
    }

    private static String errorIdOf(String body) {
        Matcher matcher = ERROR_ID.matcher(body);
        assertThat(matcher.find()).as("an errorId in %s", body).isTrue();
        return matcher.group(1);
    }

    /**
     * A 200 whose chunked body stops after {@code bytes} with no last chunk, on a connection the server ended: what
     * a client sees as a failed transfer. (The body's bytes are kept out of the assertion messages: 16 KiB of them.)
     */
    private static void assertAbortedAfter(RawHttp.Exchange exchange, int bytes) {
        assertThat(exchange.head()).startsWith("HTTP/1.1 200");
        assertThat(exchange.header("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(exchange.content().length()).as("the body's length").isEqualTo(bytes);
        assertThat(exchange.body().endsWith("0\r\n\r\n")).as("a last chunk").isFalse();
        assertThat(exchange.ending()).as("how the connection ended (not kept open as after a whole response)")
                .isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
    }

    private void assertCountedOnceAsAborted() {
        assertThat(count("backstop.panics", "source", "handler")).isEqualTo(1);
        assertThat(count("backstop.panics")).isEqualTo(1);
        assertThat(count("backstop.responses", "outcome", "aborted")).isEqualTo(1);
    }

    /** One ERROR line on dev.backstop, for this error id, counted once as a handler panic. */
    private void assertOnePanic(String errorId, String... contains) {
        ILoggingEvent line = onlyError();
        assertThat(line.getFormattedMessage()).startsWith("panic errorId=" + errorId + " source=handler")
                .contains(contains);
        assertThat(line.getMDCPropertyMap()).containsEntry("errorId", errorId);
        assertThat(count("backstop.panics", "source", "handler")).isEqualTo(1);
        assertThat(count("backstop.panics")).isEqualTo(1);
    }

    private ILoggingEvent onlyError() {
        List<ILoggingEvent> errors = backstop.at(Level.ERROR);
        assertThat(errors).as("Backstop's ERROR lines").hasSize(1);
        return errors.get(0);
    }

    /** Jersey (java.util.logging) and Jetty logged nothing at WARNING or above: Backstop's line is the only one. */
    private void assertNothingElseLogged() {
        assertThat(jersey.describe()).as("what Jersey logged").isEmpty();
        assertThat(jetty.warningsAndErrors()).as("what Jetty logged").isEmpty();
    }

    private void assertNoPanic() {
        assertThat(backstop.at(Level.ERROR)).isEmpty();
        assertThat(count("backstop.panics")).isZero();
        assertNothingElseLogged();
    }

    private double count(String name, String... tags) {
        return registry.find(name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
    }
}
