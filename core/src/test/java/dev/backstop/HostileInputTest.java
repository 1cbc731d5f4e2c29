package dev.backstop;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What users throw at Backstop: throwables whose {@code getMessage()} and {@code toString()} throw, cyclic and deep
 * cause chains, empty and unwritable stacks, control characters in messages, hostile request paths, a fatal error.
 * Nothing a handler throws can skip the 500 or make the filter throw. The corpus throws each of 18 hostile inputs
 * once by the handler through the filter and once by a child task that the handler awaits: whatever the input, the
 * client gets a clean 500 that names nothing of the failure, the log gets exactly one ERROR event whose formatted
 * line has no raw control character, and the panic is counted exactly once. Backstop's own parts failing (a meter
 * registry, a responder, a response writer, the MDC) are {@link SelfFailureTest}.
 */
class HostileInputTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private Response panicWith(Throwable thrown) throws Exception {
        TestServer server = harness.jetty()
                .route("/panic", (request, response) -> {
                    throw thrown;
                })
                .start();
        return given().port(server.port()).get("/panic");
    }

    private static void assertCleanProblem(Response response) {
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.jsonPath().getString("errorId")).matches("[0-9a-f]{16}");
    }

    /** A throwable whose message and string form blow up, as some proxies' do. */
    static final class HostileException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        @Override
        public String getMessage() {
            throw new IllegalStateException("getMessage is broken");
        }

        @Override
        public String getLocalizedMessage() {
            throw new IllegalStateException("getLocalizedMessage is broken");
        }

        @Override
        public String toString() {
            throw new IllegalStateException("toString is broken");
        }
    }

    @Test
    void throwingGetMessageAndToStringStillGetA500AndOneErrorEvent() throws Exception {
        Response response = panicWith(new HostileException());

        assertCleanProblem(response);
        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage())
                .contains("exception=dev.backstop.HostileInputTest$HostileException")
                .contains("<getMessage() threw java.lang.IllegalStateException>");
        assertThat(errors.get(0).getThrowableProxy()).as("a stack is still logged").isNotNull();
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "HostileException"))
                .isEqualTo(1.0);
    }

    @Test
    void cyclicCauseChainStillGetsA500AndOneErrorEvent() throws Exception {
        RuntimeException first = new RuntimeException("first");
        RuntimeException second = new RuntimeException("second", first);
        first.initCause(second);

        Response response = panicWith(first);

        assertCleanProblem(response);
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
    }

    @Test
    void controlCharactersAreEscapedInTheLogLine() throws Exception {
        panicWith(new IllegalArgumentException("user said: x\r\nERROR forged line\u001b[31m\u0000 end\\"));

        ILoggingEvent event = harness.errors().get(0);
        String line = event.getFormattedMessage();
        assertThat(line.chars()).noneMatch(c -> c < 0x20 || c == 0x7f);
        assertThat(line).contains("message=\"user said: x\\r\\nERROR forged line\\u001b[31m\\u0000 end\\\\\"");
    }

    @Test
    void fatalErrorIsLoggedAndCountedOnceAndAnsweredWithABareEmpty500() throws Exception {
        Response response = panicWith(new OutOfMemoryError("simulated"));

        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage()).startsWith("fatal error errorId=");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "OutOfMemoryError"))
                .isEqualTo(1.0);
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "fatal")).isEqualTo(1.0);
        // Not rethrown: the container would write its own page naming the error, and log its stack again.
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.asString()).isEmpty();
    }

    // The corpus: 18 hostile inputs, each thrown once by the handler and once by a child task.

    /** How the throwable reaches the filter. */
    enum Route {
        /** The handler throws it on the request thread. */
        HANDLER,
        /** A child task throws it; the handler's {@code await()} hands it to the filter. */
        CHILD
    }

    /**
     * One hostile input.
     *
     * @param name what it is, for the test report
     * @param path the raw request path (already percent-encoded)
     * @param thrown makes a fresh throwable, in the thread that throws it
     * @param leaks strings that must never reach the client: message text, class names
     */
    record Case(String name, String path, Supplier<RuntimeException> thrown, List<String> leaks) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final String ONE_MIB_MESSAGE = oneMebibyteMessage();

    /**
     * The longest path used. Jetty's default request-header buffer (8 KiB) also holds the request line, so a path of
     * a full 8,192 chars is rejected with 414 before any filter runs; this is the longest round size it accepts with
     * the headers this test sends.
     */
    static final int LONG_PATH_CHARS = 8_000;

    /**
     * Every filter of the corpus is made here, so that options that affect repeated panics (such as a log-storm
     * limiter) can be set in one place. Each case gets a fresh filter and registry (the harness's), so counts are
     * exact.
     */
    private RecoveryFilter newFilter() {
        return harness.filter().build();
    }

    static Stream<Arguments> corpus() {
        List<Arguments> all = new ArrayList<>();
        for (Case hostile : cases()) {
            for (Route route : Route.values()) {
                all.add(Arguments.of(hostile, route));
            }
        }
        return all.stream();
    }

    private static List<Case> cases() {
        return List.of(
                message("CR LF in the message", "a\r\nb"),
                message("a forged log line", "x\nERROR forged"),
                message("ANSI escape", "\u001b[31mred"),
                message("NUL", "before\u0000after"),
                message("a quote that would close the message field",
                        "x\" errorId=0000000000000000 source=forged"),
                message("C1 control, DEL and line separator", "one\u0085two\u007fthree\u2028four"),
                message("1 MiB of text", ONE_MIB_MESSAGE),
                new Case("getMessage() and toString() throw", "/hostile", HostileException::new,
                        List.of(HostileException.class.getSimpleName(), "getMessage", "broken")),
                new Case("null message", "/hostile", IllegalStateException::new,
                        List.of("IllegalStateException")),
                new Case("cyclic cause chain through initCause", "/hostile",
                        HostileInputTest::cycleByInitCause, List.of("cycle-a", "cycle-b")),
                new Case("cyclic cause chain through an overridden getCause()", "/hostile",
                        HostileInputTest::cycleByGetCause, List.of(LoopingCause.class.getSimpleName())),
                new Case("mutual self-suppression", "/hostile", HostileInputTest::mutualSuppression,
                        List.of("suppressing", "suppressed")),
                new Case("10,000-deep cause chain", "/hostile", HostileInputTest::deepChain,
                        List.of("level 0", "level 9999")),
                new Case("empty stack trace", "/hostile", HostileInputTest::emptyStack,
                        List.of("no frames")),
                new Case("stack trace not writable", "/hostile", NoStack::new,
                        List.of(NoStack.class.getSimpleName(), "stack not writable")),
                path("a long path", "/" + "p".repeat(LONG_PATH_CHARS - 1)),
                // Encoded control characters (/x%0D%0Ay, %1B, %00) never reach a filter: Jetty 12 answers them 400
                // "Suspicious Path Character" itself. Encoded quotes and spaces do reach it, still encoded.
                path("a non-ASCII path", "/caf%C3%A9/%E2%9C%93"),
                path("an encoded quote and space in the path", "/x%22%20errorId=forged"));
    }

    private static Case message(String name, String message) {
        return new Case(name, "/hostile", () -> new IllegalArgumentException(message),
                List.of(message, "IllegalArgumentException"));
    }

    private static Case path(String name, String path) {
        return new Case(name, path, () -> new IllegalStateException("plain failure"),
                List.of("plain failure", "IllegalStateException"));
    }

    @ParameterizedTest(name = "{0}, thrown by the {1}")
    @MethodSource("corpus")
    void hostileInputGetsACleanAnswerOneEscapedErrorEventAndOneCount(Case hostile, Route route) throws Exception {
        TestServer server = harness.jetty(newFilter()).route("/*", (request, response) -> {
            if (route == Route.HANDLER) {
                throw hostile.thrown().get();
            }
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go("hostile", () -> {
                    throw hostile.thrown().get();
                });
                tasks.await();
            }
        }).start();

        HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + hostile.path()))
                        .timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());

        String body = response.body();
        assertThat(response.statusCode()).as(body).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(body).matches("\\{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500,"
                + "\"errorId\":\"[0-9a-f]{16}\"}");
        String errorId = JsonPath.from(body).getString("errorId");
        assertThat(errorId).matches("[0-9a-f]{16}");
        assertThat(body).doesNotContain("Exception", "at dev.", "at java.", "HostileInputTest", "\\u");
        for (String leak : hostile.leaks()) {
            assertThat(body).as("the body leaks %s", abbreviate(leak)).doesNotContain(leak);
        }

        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).as("exactly one ERROR event for the request").hasSize(1);
        ILoggingEvent event = errors.get(0);
        assertThat(event.getFormattedMessage())
                .startsWith("panic errorId=" + errorId + " source=" + (route == Route.HANDLER ? "handler" : "child")
                        + " method=GET path=" + expectedLoggedPath(hostile.path()));
        assertThat(event.getMDCPropertyMap()).containsEntry("errorId", errorId);
        assertMessageFieldIsClosedOnlyAtTheEnd(event.getFormattedMessage());
        for (ILoggingEvent any : harness.logs().all()) {
            assertThat(any.getFormattedMessage())
                    .as("a Backstop log line at %s", any.getLevel())
                    .doesNotContain("\r", "\n", "\u001b", "\u0000", "\u0085", "\u007f", "\u2028");
            for (Map.Entry<String, String> mdc : any.getMDCPropertyMap().entrySet()) {
                assertThat(mdc.getValue()).as("MDC %s", mdc.getKey())
                        .doesNotContain("\r", "\n", "\u001b", "\u0000");
            }
        }
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
        assertThat(harness.total("backstop.responses")).isEqualTo(1.0);
    }

    /** The line ends with {@code message="..."}, and no quote inside it is left unescaped to end it early. */
    private static void assertMessageFieldIsClosedOnlyAtTheEnd(String line) {
        int start = line.indexOf(" message=\"");
        assertThat(start).as("a message field in %s", abbreviate(line)).isPositive();
        for (int i = start + " message=\"".length(); i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                assertThat(i).as("the message field closes at the end of the line").isEqualTo(line.length() - 1);
                return;
            }
        }
        throw new AssertionError("the message field is never closed");
    }

    /** The path as the log line shows it: raw (still percent-encoded), cut at 1,024 chars with a marker. */
    private static String expectedLoggedPath(String path) {
        return path.length() <= 1024 ? path
                : path.substring(0, 1024) + "...(" + (path.length() - 1024) + " more chars)";
    }

    private static String abbreviate(String text) {
        String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return shown.replace("\r", "\\r").replace("\n", "\\n").replace("\u001b", "\\e").replace("\u0000", "\\0");
    }

    /** A mebibyte of text with a control character in every line, so the escaping and the cut both matter. */
    private static String oneMebibyteMessage() {
        StringBuilder out = new StringBuilder(1 << 20);
        for (int line = 0; out.length() < (1 << 20) - 64; line++) {
            out.append("line ").append(line).append(" of a huge message\r\n\u001b[0m");
        }
        while (out.length() < (1 << 20)) {
            out.append('.');
        }
        return out.toString();
    }

    /** a -> b -> a, built with the standard {@code initCause}. */
    private static RuntimeException cycleByInitCause() {
        RuntimeException a = new RuntimeException("cycle-a");
        RuntimeException b = new RuntimeException("cycle-b", a);
        a.initCause(b);
        return a;
    }

    /** A throwable whose {@code getCause()} is whatever it was pointed at, even a throwable pointing back. */
    static final class LoopingCause extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private transient Throwable next;

        LoopingCause(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable getCause() {
            return next;
        }
    }

    private static RuntimeException cycleByGetCause() {
        LoopingCause a = new LoopingCause("loop-a");
        LoopingCause b = new LoopingCause("loop-b");
        a.next = b;
        b.next = a;
        return a;
    }

    /** t suppresses s, and s suppresses t ({@code t.addSuppressed(t)} itself is refused by the JDK). */
    private static RuntimeException mutualSuppression() {
        RuntimeException t = new RuntimeException("suppressing");
        RuntimeException s = new RuntimeException("suppressed");
        s.addSuppressed(t);
        t.addSuppressed(s);
        return t;
    }

    private static RuntimeException deepChain() {
        RuntimeException chain = new RuntimeException("level 0");
        for (int level = 1; level < 10_000; level++) {
            chain = new RuntimeException("level " + level, chain);
        }
        return chain;
    }

    private static RuntimeException emptyStack() {
        RuntimeException t = new RuntimeException("no frames");
        t.setStackTrace(new StackTraceElement[0]);
        return t;
    }

    /** Created with {@code writableStackTrace=false}: no stack is ever filled in or set. */
    static final class NoStack extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NoStack() {
            super("stack not writable", null, false, false);
        }
    }
}
