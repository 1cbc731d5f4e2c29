package dev.backstop;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A handler that throws before committing gets a clean 500, one ERROR event and one count, whether it failed on
 * the request thread (REQUEST dispatch) or in an ASYNC dispatch.
 */
class HandlerPanicTest {

    /** The execution modes every behaviour here runs under. */
    enum Mode {
        /** The servlet throws on the container's REQUEST dispatch. */
        SYNC,
        /** The servlet starts async, dispatches, and throws on the ASYNC dispatch. */
        ASYNC_DISPATCH;

        TestServer.Handler failing(TestServer.Handler body) {
            if (this == SYNC) {
                return body;
            }
            return (request, response) -> {
                if (request.getDispatcherType() == DispatcherType.REQUEST) {
                    request.startAsync().dispatch();
                    return;
                }
                body.handle(request, response);
            };
        }
    }

    @RegisterExtension
    final Harness harness = new Harness();

    private TestServer server;

    private void start(Mode mode, TestServer.Handler handler) throws Exception {
        start(harness.filter().build(), mode, handler);
    }

    private void start(RecoveryFilter filter, Mode mode, TestServer.Handler handler) throws Exception {
        server = harness.jetty(filter).route("/panic", mode.failing(handler)).start();
    }

    private static void throwIllegalState(HttpServletRequest request, HttpServletResponse response) {
        response.setHeader("X-Handler", "was here");
        response.setContentType("text/html");
        throw new IllegalStateException("secret message: db password is hunter2");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void panicIsAnsweredWithProblemJsonAndNoDetails(Mode mode) throws Exception {
        start(mode, HandlerPanicTest::throwIllegalState);

        Response response = given().port(server.port()).get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.header("Cache-Control")).isEqualTo("no-store");
        assertThat(response.header("X-Handler")).as("headers the handler set are dropped").isNull();
        JsonPath json = response.jsonPath();
        assertThat(json.getString("type")).isEqualTo("about:blank");
        assertThat(json.getString("title")).isEqualTo("Internal Server Error");
        assertThat(json.getInt("status")).isEqualTo(500);
        String errorId = json.getString("errorId");
        assertThat(errorId).matches("[0-9a-f]{16}");
        assertThat(response.asString())
                .doesNotContain("IllegalStateException", "secret", "hunter2", "dev.backstop", "at ");

        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(1);
        ILoggingEvent event = errors.get(0);
        assertThat(event.getFormattedMessage())
                .startsWith("panic errorId=" + errorId + " source=handler method=GET path=/panic")
                .contains("exception=java.lang.IllegalStateException");
        assertThat(event.getMDCPropertyMap()).containsEntry("errorId", errorId);
        assertThat(event.getThrowableProxy().getClassName()).isEqualTo("java.lang.IllegalStateException");

        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1.0);
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "panic")).isEqualTo(1.0);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void clientWithoutAcceptHeaderGetsProblemJson(Mode mode) throws Exception {
        start(mode, HandlerPanicTest::throwIllegalState);

        // java.net.http sends no Accept header unless told to.
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(server.uri("/panic")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(response.body()).contains("\"errorId\":\"");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void clientThatPrefersTextGetsPlainTextWithTheErrorId(Mode mode) throws Exception {
        start(mode, HandlerPanicTest::throwIllegalState);

        Response response = given().port(server.port()).accept("text/html,text/plain;q=0.9").get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("text/plain");
        assertThat(response.header("Cache-Control")).isEqualTo("no-store");
        String errorId = harness.errors().get(0).getMDCPropertyMap().get("errorId");
        assertThat(response.asString()).isEqualTo("Internal Server Error\nerrorId: " + errorId + "\n");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void checkedExceptionIsAPanicTaggedWithTheCauseUnderServletException(Mode mode) throws Exception {
        start(mode, (request, response) -> {
            throw new ServletException(new IOException("disk on fire"));
        });

        Response response = given().port(server.port()).get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.asString()).doesNotContain("disk on fire", "IOException");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IOException")).isEqualTo(1.0);
        assertThat(harness.errors()).hasSize(1);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void stackOverflowIsAnOrdinaryPanic(Mode mode) throws Exception {
        start(mode, (request, response) -> recurse(0));

        Response response = given().port(server.port()).get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "StackOverflowError"))
                .isEqualTo(1.0);
    }

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void exposeStackTracesPutsTheDetailsInTheBody(Mode mode) throws Exception {
        start(harness.filter().exposeStackTraces(true).build(), mode,
                HandlerPanicTest::throwIllegalState);

        JsonPath json = given().port(server.port()).get("/panic").then().statusCode(500).extract().jsonPath();

        assertThat(json.getString("exception")).isEqualTo("java.lang.IllegalStateException");
        assertThat(json.getString("detail")).isEqualTo("secret message: db password is hunter2");
        assertThat(json.getString("stackTrace")).contains("at dev.backstop.HandlerPanicTest.throwIllegalState");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void customResponderWritesTheErrorResponse(Mode mode) throws Exception {
        ErrorResponder html = (request, response, failure) -> {
            response.setContentType("text/html;charset=utf-8");
            response.getWriter().write("<p>Sorry. Error " + failure.errorId() + " on " + failure.method() + " "
                    + failure.path() + "</p>");
        };
        start(harness.filter().errorResponder(html).build(), mode,
                HandlerPanicTest::throwIllegalState);

        Response response = given().port(server.port()).get("/panic");

        String errorId = harness.errors().get(0).getMDCPropertyMap().get("errorId");
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.header("Cache-Control")).isEqualTo("no-store");
        assertThat(response.contentType()).startsWith("text/html");
        assertThat(response.asString()).isEqualTo("<p>Sorry. Error " + errorId + " on GET /panic</p>");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void failingResponderFallsBackToPlain500AndIsReportedOnce(Mode mode) throws Exception {
        ErrorResponder broken = (request, response, failure) -> {
            response.setHeader("X-Half-Done", "yes");
            throw new IllegalArgumentException("responder bug");
        };
        start(harness.filter().errorResponder(broken).build(), mode,
                HandlerPanicTest::throwIllegalState);

        Response response = given().port(server.port()).get("/panic");

        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(2);
        String errorId = errors.get(0).getMDCPropertyMap().get("errorId");
        assertThat(errors.get(1).getFormattedMessage())
                .startsWith("backstop respond failed while handling errorId=" + errorId)
                .contains("java.lang.IllegalArgumentException");
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("text/plain");
        assertThat(response.header("X-Half-Done")).isNull();
        assertThat(response.asString()).isEqualTo("Internal Server Error\nerrorId: " + errorId + "\n");
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
        assertThat(harness.count("backstop.internal.failures", "stage", "respond")).isEqualTo(1.0);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void fatalErrorUnderAWrapperIsReportedOnceAndAnsweredWithABareEmpty500(Mode mode) throws Exception {
        start(mode, (request, response) -> {
            throw new ServletException("Handler dispatch failed", new OutOfMemoryError("simulated"));
        });

        Response response = given().port(server.port()).get("/panic");

        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.errors().get(0).getFormattedMessage()).startsWith("fatal error errorId=");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "OutOfMemoryError"))
                .isEqualTo(1.0);
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "fatal")).isEqualTo(1.0);
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.header("Cache-Control")).isEqualTo("no-store");
        assertThat(response.asString()).as("nothing of the error reaches the client").isEmpty();
    }

    @Test
    void loggedPathHasNoQueryAndNoPathParameters() throws Exception {
        start(Mode.SYNC, HandlerPanicTest::throwIllegalState);

        given().port(server.port()).urlEncodingEnabled(false).get("/panic;jsessionid=abc123?token=secret")
                .then().statusCode(500);

        String line = harness.errors().get(0).getFormattedMessage();
        assertThat(line).contains(" path=/panic exception=").doesNotContain("jsessionid", "abc123", "token=");
    }

    @Test
    void failureInsideAnIncludeIsAnsweredOnceByTheOuterDispatch() throws Exception {
        server = harness.jetty()
                .route("/page", (request, response) -> {
                    response.getWriter().write("<header>");
                    request.getRequestDispatcher("/fragment").include(request, response);
                })
                .route("/fragment", HandlerPanicTest::throwIllegalState)
                .start();

        Response response = given().port(server.port()).get("/page");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.asString()).doesNotContain("<header>");
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.errors().get(0).getFormattedMessage()).contains("path=/page ");
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
    }

    @Test
    void failureAfterStartAsyncOnTheRequestThreadIsAnsweredAndCompleted() throws Exception {
        start(Mode.SYNC, (request, response) -> {
            AsyncContext async = request.startAsync();
            async.setTimeout(0);
            throw new IllegalStateException("started async, then broke");
        });

        Response response = given().port(server.port()).get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
        assertThat(harness.errors()).hasSize(1);
    }

    @Test
    void nonFailingHandlerIsUntouched() throws Exception {
        start(Mode.SYNC, (request, response) -> {
            response.setHeader("X-Handler", "was here");
            response.getWriter().write("hello");
            response.setHeader("X-Attributes", Collections.list(request.getAttributeNames()).stream()
                    .filter(name -> name.startsWith("dev.backstop")).collect(Collectors.joining(",")));
        });

        Response response = given().port(server.port()).get("/panic");
        Response again = given().port(server.port()).get("/panic");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.asString()).isEqualTo("hello");
        assertThat(response.header("X-Handler")).isEqualTo("was here");
        assertThat(response.header("X-Attributes")).as("a plain request carries one attribute of Backstop's")
                .isEqualTo("dev.backstop.request");
        assertThat(again.header("X-Attributes")).isEqualTo("dev.backstop.request");
        assertThat(harness.logs().all()).isEmpty();
        // Counters with known tags and the active-task gauges exist from the start, so that dashboards and alerts
        // see 0 before the first event; none was touched, and nothing per exception was registered.
        assertThat(harness.registry().find("backstop.panics").meters()).isEmpty();
        assertThat(harness.registry().find("backstop.client.aborts").meters()).isEmpty();
        assertThat(harness.registry().getMeters()).isNotEmpty().allSatisfy(meter ->
                meter.measure().forEach(measurement -> assertThat(measurement.getValue()).as("%s", meter.getId())
                        .isZero()));
    }
}
