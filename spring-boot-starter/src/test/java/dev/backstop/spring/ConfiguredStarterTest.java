package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.spring.app.TestApplication;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Properties that change what the starter does: one Backstop property, and Spring's own problem details. */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"backstop.log-storm-interval=0", "spring.mvc.problemdetails.enabled=true"})
class ConfiguredStarterTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    Http http;
    LogCapture log;

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
    void logStormIntervalZeroLogsEveryIdenticalPanicInFull() {
        double before = http.panics("HandlerPanic", "handler");
        for (int i = 0; i < 3; i++) {
            assertThat(http.get("/panic").statusCode()).isEqualTo(500);
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> log.errorsAbout("the handler failed on purpose").size() >= 3);
        List<ILoggingEvent> lines = log.errorsAbout("the handler failed on purpose");
        assertThat(lines).hasSize(3).allSatisfy(line -> {
            assertThat(line.getLoggerName()).startsWith("dev.backstop");
            assertThat(line.getThrowableProxy()).as("the stack").isNotNull();
            assertThat(line.getFormattedMessage()).doesNotContain("folded");
        });
        assertThat(http.panics("HandlerPanic", "handler")).isEqualTo(before + 3);
    }

    @Test
    void withSpringProblemDetailsThe500HasTheShapeOfProblemDetailPlusErrorId() {
        HttpResponse<String> panic = http.get("/panic?secret=1");
        HttpResponse<String> springs = http.get("/no-such-page"); // answered by Spring's ProblemDetail handling

        assertThat(panic.statusCode()).isEqualTo(500);
        assertThat(panic.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode body = JSON.readTree(panic.body());
        assertThat(body.path("type").asString()).isEqualTo("about:blank");
        assertThat(body.path("title").asString()).isEqualTo("Internal Server Error");
        assertThat(body.path("status").asInt()).isEqualTo(500);
        assertThat(body.path("instance").asString()).isEqualTo("/panic");
        assertThat(body.path("errorId").asString()).isNotBlank();
        assertThat(springs.statusCode()).isEqualTo(404);
        assertThat(springs.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode spring = JSON.readTree(springs.body());
        assertThat(spring.path("instance").asString()).isEqualTo("/no-such-page");
        for (String member : List.of("title", "status", "instance")) {
            assertThat(spring.has(member)).as("Spring's ProblemDetail %s has '%s'", spring, member).isTrue();
        }
        // Spring leaves "type" out when it is about:blank, which RFC 9457 reads the same as stating it.
        assertThat(spring.path("type").asString("about:blank")).isEqualTo(body.path("type").asString());
    }
}
