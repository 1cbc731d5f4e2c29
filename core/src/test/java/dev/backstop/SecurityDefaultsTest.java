package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import dev.backstop.testing.CapturedLogs;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The secure defaults, each on a real Jetty: error responses name nothing of the failure unless stack traces are
 * exposed on purpose; the query string, path parameters and request headers (Authorization, Cookie and the rest)
 * never reach a log event; error ids are random; every error response is {@code Cache-Control: no-store}; and a
 * client-supplied request id is neither logged nor echoed (Backstop reads no request header but Accept).
 */
class SecurityDefaultsTest {

    /** Words that would betray the failure in a response. */
    private static final String SECRET_MESSAGE = "secret-message-db-password-hunter2";
    private static final List<String> FAILURE_DETAILS = List.of(LeakyException.class.getSimpleName(),
            SECRET_MESSAGE, "hunter2", "Exception", "at dev.", "at java.", "\tat ", "SecurityDefaultsTest");

    private static final Pattern ERROR_ID = Pattern.compile("\"errorId\":\"([^\"]*)\"");

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private CapturedLogs everything;
    private TestServer server;

    /** The exception every handler here throws: its class name and message must stay on the server. */
    static final class LeakyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LeakyException() {
            super(SECRET_MESSAGE);
        }
    }

    /** Which error body is asked for, and how it is produced. */
    enum Body {
        /** Backstop's problem+json, for a client that accepts JSON. */
        PROBLEM_JSON("application/json"),
        /** Backstop's text/plain, for a client that wants text. */
        TEXT_PLAIN("text/plain"),
        /** A custom ErrorResponder that writes the error id only. */
        CUSTOM("application/json"),
        /** A custom ErrorResponder that throws: Backstop's plain fallback answers. */
        CUSTOM_THAT_THROWS("application/json"),
        /** A child task's panic, through await(). */
        CHILD("application/json");

        final String accept;

        Body(String accept) {
            this.accept = accept;
        }
    }

    @BeforeEach
    void captureEverything() {
        everything = harness.capture(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    private RecoveryFilter filterFor(Body body) {
        return switch (body) {
            case CUSTOM -> harness.filter().errorResponder((request, response, failure) -> {
                response.setContentType("text/plain;charset=utf-8");
                response.getWriter().write("Sorry, error " + failure.errorId());
            }).build();
            case CUSTOM_THAT_THROWS -> harness.filter().errorResponder((request, response, failure) -> {
                throw new IllegalStateException("the responder is broken");
            }).build();
            default -> harness.filter().build();
        };
    }

    /** A handler that sets a cacheable header and a cookie, then fails, on its own thread or in a child task. */
    private static TestServer.Handler failing(boolean inChild) {
        return (request, response) -> {
            response.setHeader("Cache-Control", "public, max-age=3600");
            response.addHeader("Set-Cookie", "handler=was-here");
            if (!inChild) {
                throw new LeakyException();
            }
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go("leaky", () -> {
                    throw new LeakyException();
                });
                tasks.await();
            }
        };
    }

    private HttpResponse<String> get(String path, String accept) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).header("Accept", accept)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String everythingSent(HttpResponse<String> response) {
        StringBuilder out = new StringBuilder();
        response.headers().map().forEach((name, values) -> out.append(name).append(": ").append(values).append('\n'));
        return out.append('\n').append(response.body()).toString();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Body.class)
    void noExceptionClassMessageOrStackInAnyErrorResponseByDefault(Body kind) throws Exception {
        server = harness.jetty(filterFor(kind)).route("/*", failing(kind == Body.CHILD)).start();

        HttpResponse<String> response = get("/fail", kind.accept);

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.body()).matches("(?s).*[0-9a-f]{16}.*");
        String sent = everythingSent(response);
        for (String detail : FAILURE_DETAILS) {
            assertThat(sent).as("%s answer leaks %s", kind, detail).doesNotContain(detail);
        }
        assertThat(response.headers().allValues("Set-Cookie")).as("the handler's headers are dropped").isEmpty();
        assertThat(harness.errors()).isNotEmpty();
    }

    @Test
    void theNoArgFilterOfWebXmlExposesNothingEither() throws Exception {
        server = harness.jetty(new RecoveryFilter()).route("/*", failing(false));
        server.context().setAttribute(RecoveryFilter.DEFAULT_METER_REGISTRY_ATTRIBUTE, harness.registry());
        server.start();

        for (String accept : new String[] {"application/json", "text/plain"}) {
            String sent = everythingSent(get("/fail", accept));
            for (String detail : FAILURE_DETAILS) {
                assertThat(sent).as("%s answer leaks %s", accept, detail).doesNotContain(detail);
            }
        }
    }

    @Test
    void withExposeStackTracesOnTheClassMessageAndStackAreThere() throws Exception {
        server = harness.jetty(harness.filter().exposeStackTraces(true).build())
                .route("/*", failing(false)).start();

        HttpResponse<String> json = get("/fail", "application/json");
        HttpResponse<String> text = get("/fail", "text/plain");

        assertThat(json.statusCode()).isEqualTo(500);
        JsonPath problem = JsonPath.from(json.body());
        assertThat(problem.getString("exception")).isEqualTo(LeakyException.class.getName());
        assertThat(problem.getString("detail")).isEqualTo(SECRET_MESSAGE);
        assertThat(problem.getString("stackTrace"))
                .startsWith(LeakyException.class.getName() + ": " + SECRET_MESSAGE)
                .contains("\tat dev.backstop.SecurityDefaultsTest");
        assertThat(problem.getString("errorId")).matches("[0-9a-f]{16}");
        assertThat(text.statusCode()).isEqualTo(500);
        assertThat(text.body()).contains(LeakyException.class.getName() + ": " + SECRET_MESSAGE,
                "\tat dev.backstop.SecurityDefaultsTest");
    }

    /** Secrets a client sends; none may reach a log event. */
    private static final Map<String, String> SECRET_HEADERS = Map.of(
            "Authorization", "Bearer TOPSECRET-AUTHORIZATION",
            "Cookie", "session=TOPSECRET-COOKIE; theme=dark",
            "X-Api-Key", "TOPSECRET-API-KEY",
            "X-Request-Id", "TOPSECRET-REQUEST-ID",
            "User-Agent", "TOPSECRET-USER-AGENT",
            "Referer", "https://example.test/?TOPSECRET-REFERER",
            "X-Forwarded-For", "203.0.113.7, TOPSECRET-FORWARDED");

    @ParameterizedTest(name = "thrown by the {0}")
    @ValueSource(strings = {"handler", "child"})
    void queryPathParametersAndRequestHeadersAreNeverLogged(String source) throws Exception {
        server = harness.jetty().route("/*", failing(source.equals("child"))).start();
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri(
                "/orders/42;jsessionid=TOPSECRET-PATH-PARAMETER?token=TOPSECRET-QUERY&password=TOPSECRET-PW"))
                .timeout(Duration.ofSeconds(30));
        SECRET_HEADERS.forEach(request::header);

        HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(500);
        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage())
                .contains("source=" + source + " method=GET path=/orders/42 ");
        assertThat(everything.all()).as("every log event of the JVM during the request").isNotEmpty();
        for (ILoggingEvent event : everything.all()) {
            assertNoSecret(event, "TOPSECRET");
        }
    }

    private static void assertNoSecret(ILoggingEvent event, String secret) {
        String where = event.getLoggerName() + " " + event.getLevel();
        assertThat(event.getFormattedMessage()).as(where).doesNotContainIgnoringCase(secret);
        for (Map.Entry<String, String> mdc : event.getMDCPropertyMap().entrySet()) {
            assertThat(mdc.getKey() + "=" + mdc.getValue()).as(where + " MDC").doesNotContainIgnoringCase(secret);
        }
        for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).as(where + " throwable").doesNotContainIgnoringCase(secret);
        }
    }

    @Test
    void errorIdsAreDistinctSixteenHexDigitsAndNotSequential() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        server = harness.jetty().route("/*", (request, response) -> {
            RuntimeException failure = new IllegalStateException("fails every time");
            // One short frame keeps 1,000 log events small; a different one each time keeps every failure distinct,
            // so that nothing which folds repeated identical panics into one line hides an id from the log.
            int n = requests.incrementAndGet();
            failure.setStackTrace(new StackTraceElement[] {
                new StackTraceElement("example.Handler", "handle" + n, "Handler.java", n)});
            throw failure;
        }).start();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            HttpResponse<String> response = get("/fail", "application/json");
            assertThat(response.statusCode()).isEqualTo(500);
            Matcher errorId = ERROR_ID.matcher(response.body());
            assertThat(errorId.find()).as(response.body()).isTrue();
            ids.add(errorId.group(1));
        }

        assertThat(ids).allMatch(id -> id.matches("[0-9a-f]{16}"), "16 lower-case hex digits");
        assertThat(new HashSet<>(ids)).hasSize(1_000);
        Set<String> logged = new HashSet<>();
        harness.errors().forEach(event -> logged.add(event.getMDCPropertyMap().get("errorId")));
        assertThat(logged).as("the ids the clients saw are the ids in the log").isEqualTo(new HashSet<>(ids));

        long[] values = ids.stream().mapToLong(id -> Long.parseUnsignedLong(id, 16)).toArray();
        Set<Long> steps = new HashSet<>();
        for (int i = 1; i < values.length; i++) {
            long step = values[i] - values[i - 1];
            // Unsigned distance below 2^32 between random 64-bit ids: about one chance in 2^31 per pair.
            long distance = Math.min(step, -step);
            assertThat(Long.compareUnsigned(distance, 1L << 32)).as("ids %s and %s are close: a counter or a clock?",
                    ids.get(i - 1), ids.get(i)).isPositive();
            steps.add(step);
        }
        assertThat(steps).as("consecutive ids do not step by a constant").hasSizeGreaterThan(990);
        for (int bit = 0; bit < 64; bit++) {
            long mask = 1L << bit;
            long set = Arrays.stream(values).filter(v -> (v & mask) != 0).count();
            // Binomial(1000, 1/2): 350..650 is more than 9 standard deviations wide.
            assertThat(set).as("ids with bit %d set", bit).isBetween(350L, 650L);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Body.class)
    void everyErrorResponseIsNoStoreWhateverTheHandlerSet(Body kind) throws Exception {
        server = harness.jetty(filterFor(kind)).route("/*", failing(kind == Body.CHILD)).start();

        HttpResponse<String> response = get("/fail", kind.accept);

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().allValues("Cache-Control")).containsExactly("no-store");
    }

    @Test
    void aCustomResponderMayChooseItsOwnCacheControl() throws Exception {
        List<String> seenByResponder = new ArrayList<>();
        server = harness.jetty(harness.filter().errorResponder((request, response, failure) -> {
            seenByResponder.add(response.getHeader("Cache-Control"));
            response.setHeader("Cache-Control", "private, max-age=5");
            response.getWriter().write(failure.errorId());
        }).build()).route("/*", failing(false)).start();

        HttpResponse<String> response = get("/fail", "text/plain");

        assertThat(seenByResponder).as("set before the responder runs").containsExactly("no-store");
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().allValues("Cache-Control")).containsExactly("private, max-age=5");
    }

    /**
     * Backstop reads no request id header: a hostile {@code X-Request-Id} is neither logged nor echoed. A raw CR LF
     * inside the value ends the header line, so Jetty answers 400 before any filter; values that reach the
     * application (escaped or encoded line breaks, an ANSI escape) are not logged either.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "a\r\nb-SECRET-ID",
        "a\\r\\nb-SECRET-ID",
        "a%0D%0Ab-SECRET-ID",
        "a\u001b[31mb-SECRET-ID",
        "SECRET-ID\" errorId=forged",
    })
    void aHostileClientRequestIdIsNeitherLoggedNorEchoed(String requestId) throws Exception {
        server = harness.jetty().route("/*", failing(false)).start();

        String answer = rawGet(server.port(), "/fail", "X-Request-Id: " + requestId + "\r\n"
                + "X-Correlation-Id: " + requestId + "\r\ntraceparent: " + requestId + "\r\n");

        String status = answer.substring(0, Math.max(0, answer.indexOf("\r\n")));
        assertThat(status).matches("HTTP/1\\.1 (400|500) .*");
        assertThat(answer.toLowerCase(Locale.ROOT)).doesNotContain("secret-id", "x-request-id", "x-correlation-id",
                "traceparent", "forged");
        if (status.contains(" 500 ")) {
            assertThat(harness.errors()).hasSize(1);
        } else {
            assertThat(harness.logs().all()).as("rejected before the filter: Backstop saw nothing").isEmpty();
        }
        for (ILoggingEvent event : everything.all()) {
            assertNoSecret(event, "SECRET-ID");
            assertThat(event.getFormattedMessage()).doesNotContain("forged");
        }
    }

    /** A GET written byte for byte, with {@code Connection: close}; everything the server sent until it closed. */
    private static String rawGet(int port, String path, String extraHeaders) throws IOException {
        String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
                + extraHeaders + "Connection: close\r\n\r\n";
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                received.write(buffer, 0, n);
            }
            return received.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
