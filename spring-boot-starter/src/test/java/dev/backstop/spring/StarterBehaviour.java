package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.spring.app.FailingController;
import dev.backstop.spring.app.Jobs;
import dev.backstop.spring.app.TestApplication;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.servlet.context.ServletWebServerApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a Spring Boot application gets from the starter alone, over real HTTP: run once on Tomcat and once on Jetty
 * (each subclass in a test run whose class path has only that container). Every failure site throws its own
 * exception class, so each counter and log line below belongs to one test.
 */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
abstract class StarterBehaviour {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    @Autowired
    ServletWebServerApplicationContext context;

    @Autowired
    Jobs jobs;

    Http http;
    LogCapture log;

    /** The simple class name of the web server the subclass runs on starts with this. */
    abstract String server();

    @BeforeEach
    void attach() {
        http = new Http(port);
        log = LogCapture.attach();
    }

    @AfterEach
    void detach() {
        log.close();
    }

    @Test
    void runsOnItsContainer() {
        assertThat(context.getWebServer().getClass().getSimpleName()).startsWith(server());
    }

    @Test
    void controllerPanicIsAnsweredCountedAndLoggedOnce() {
        assertPanicAnswered("/panic", "HandlerPanic", "the handler failed on purpose");
    }

    @Test
    void callableFailureIsAnsweredCountedAndLoggedOnce() {
        assertPanicAnswered("/callable", "CallableFailure", "the Callable failed on purpose");
    }

    @Test
    void deferredResultFailureIsAnsweredCountedAndLoggedOnce() {
        assertPanicAnswered("/deferred", "DeferredFailure", "the DeferredResult failed");
    }

    @Test
    void completableFutureFailureIsAnsweredCountedAndLoggedOnce() {
        assertPanicAnswered("/completable", "CompletableFailure", "the CompletableFuture failed on purpose");
    }

    @Test
    void streamingBodyFailingAfterCommitIsAbortedNotCompleted() throws Exception {
        assertCommittedFailureAborted(http, log, "/streaming", "StreamFailure",
                "the StreamingResponseBody failed after " + FailingController.STREAMED_BYTES + " bytes");
    }

    @Test
    void handlerFailingAfterWritingIsAbortedNotCompleted() throws Exception {
        assertCommittedFailureAborted(http, log, "/write", "WriteFailure",
                "the handler failed after writing " + FailingController.STREAMED_BYTES + " bytes");
    }

    @Test
    void asyncVoidMethodFailureIsReportedOnceAsExecutor() {
        assertThat(http.get("/async-void").body()).isEqualTo("submitted");

        await().atMost(Duration.ofSeconds(10)).until(() -> http.panics("AsyncVoidFailure", "executor") == 1.0);
        assertLoggedOnce("the @Async void method failed on purpose");
    }

    @Test
    void asyncFutureMethodFailureIsReportedAndStillReachesTheCaller() {
        Future<String> future = jobs.failFuture();

        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(TestApplication.AsyncFutureFailure.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> http.panics("AsyncFutureFailure", "executor") == 1.0);
        assertLoggedOnce("the @Async Future method failed on purpose");
    }

    @Test
    void asyncCompletableFutureMethodFailureIsReportedAndStillReachesTheCaller() {
        CompletableFuture<String> future = jobs.failCompletable();

        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(TestApplication.AsyncCompletableFailure.class);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> http.panics("AsyncCompletableFailure", "executor") == 1.0);
        assertLoggedOnce("the @Async CompletableFuture method failed on purpose");
    }

    @Test
    void scheduledFailureIsReportedOnceAsExecutorAndTheScheduleGoesOn() {
        jobs.armScheduledFailure();

        await().atMost(Duration.ofSeconds(10)).until(() -> http.panics("ScheduledFailure", "executor") == 1.0);
        assertLoggedOnce("the @Scheduled job failed on purpose");
        jobs.armScheduledFailure(); // the job still runs: it fails again
        await().atMost(Duration.ofSeconds(10)).until(() -> http.panics("ScheduledFailure", "executor") == 2.0);
    }

    private void assertPanicAnswered(String path, String exception, String message) {
        HttpResponse<String> response = http.get(path);

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode body = JSON.readTree(response.body());
        String errorId = body.path("errorId").asString();
        assertThat(errorId).isNotBlank();
        assertThat(body.path("status").asInt()).isEqualTo(500);
        assertThat(response.body()).doesNotContain(message).doesNotContain(exception);
        assertThat(http.panics(exception, "handler")).isEqualTo(1.0);
        ILoggingEvent line = assertLoggedOnce(message);
        assertThat(line.getFormattedMessage()).contains("errorId=" + errorId).contains("source=handler");
    }

    private ILoggingEvent assertLoggedOnce(String message) {
        await().atMost(Duration.ofSeconds(10)).until(() -> !log.errorsAbout(message).isEmpty());
        List<ILoggingEvent> lines = log.errorsAbout(message);
        assertThat(lines).as("ERROR lines about '%s'", message).hasSize(1);
        assertThat(lines.get(0).getLoggerName()).startsWith("dev.backstop");
        assertThat(lines.get(0).getThrowableProxy()).as("the stack").isNotNull();
        return lines.get(0);
    }

    /**
     * The client sees the status line and part of the body, then no final chunk and nothing appended; the failure
     * is counted once and logged once.
     */
    static void assertCommittedFailureAborted(Http http, LogCapture log, String path, String exception,
            String message)
            throws Exception {
        byte[] raw = http.raw(path);
        String received = new String(raw, StandardCharsets.ISO_8859_1);

        assertThat(received).startsWith("HTTP/1.1 200");
        assertThat(received.toLowerCase()).contains("transfer-encoding: chunked");
        assertThat(received).as("the final chunk of a whole response").doesNotEndWith(Http.FINAL_CHUNK);
        String body = received.substring(received.indexOf("\r\n\r\n") + 4);
        assertThat(body).as("nothing appended after the streamed bytes").doesNotContainIgnoringCase("error")
                .doesNotContain("{").doesNotContain("<");
        assertThat(http.panics(exception, "handler")).isEqualTo(1.0);
        await().atMost(Duration.ofSeconds(10)).until(() -> !log.errorsAbout(message).isEmpty());
        List<ILoggingEvent> lines = log.errorsAbout(message);
        assertThat(lines).as("ERROR lines about '%s'", message).hasSize(1);
        assertThat(lines.get(0).getLoggerName()).startsWith("dev.backstop");
    }
}
