package dev.backstop;

import static dev.backstop.testing.Meters.count;
import static dev.backstop.testing.Meters.total;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.CapturedLogs;
import dev.backstop.testing.TestServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.restassured.response.Response;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Nothing a handler throws, and nothing broken inside Backstop, can skip the 500 or make the filter throw. */
class SelfFailureAndHostileInputTest {

    private CapturedLogs logs;
    private TestServer server;

    @BeforeEach
    void captureLogs() {
        logs = CapturedLogs.of("dev.backstop");
    }

    @AfterEach
    void stop() throws Exception {
        logs.close();
        if (server != null) {
            server.close();
        }
    }

    private Response panicWith(SimpleMeterRegistry registry, Throwable thrown) throws Exception {
        server = new TestServer(RecoveryFilter.builder().meterRegistry(registry).build())
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
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        Response response = panicWith(registry, new HostileException());

        assertCleanProblem(response);
        List<ILoggingEvent> errors = logs.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage())
                .contains("exception=dev.backstop.SelfFailureAndHostileInputTest$HostileException")
                .contains("<getMessage() threw java.lang.IllegalStateException>");
        assertThat(errors.get(0).getThrowableProxy()).as("a stack is still logged").isNotNull();
        assertThat(count(registry, "backstop.panics", "source", "handler", "exception", "HostileException"))
                .isEqualTo(1.0);
    }

    @Test
    void cyclicCauseChainStillGetsA500AndOneErrorEvent() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RuntimeException first = new RuntimeException("first");
        RuntimeException second = new RuntimeException("second", first);
        first.initCause(second);

        Response response = panicWith(registry, first);

        assertCleanProblem(response);
        assertThat(logs.errors()).hasSize(1);
        assertThat(total(registry, "backstop.panics")).isEqualTo(1.0);
    }

    @Test
    void controlCharactersAreEscapedInTheLogLine() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        panicWith(registry, new IllegalArgumentException("user said: x\r\nERROR forged line\u001b[31m\u0000 end\\"));

        ILoggingEvent event = logs.errors().get(0);
        String line = event.getFormattedMessage();
        assertThat(line.chars()).noneMatch(c -> c < 0x20 || c == 0x7f);
        assertThat(line).contains("message=\"user said: x\\r\\nERROR forged line\\u001b[31m\\u0000 end\\\\\"");
    }

    @Test
    void meterRegistryThatThrowsDoesNotCostTheClientIts500() throws Exception {
        SimpleMeterRegistry broken = new SimpleMeterRegistry() {
            @Override
            protected Counter newCounter(Meter.Id id) {
                throw new IllegalStateException("registry is broken");
            }
        };

        Response response = panicWith(broken, new IllegalStateException("boom"));

        assertCleanProblem(response);
        assertThat(logs.errors()).hasSize(1);
        assertThat(logs.all()).anySatisfy(event ->
                assertThat(event.getFormattedMessage()).startsWith("backstop could not update a meter"));
    }

    @Test
    void fatalErrorIsLoggedAndCountedThenRethrownToTheContainer() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        Response response = panicWith(registry, new OutOfMemoryError("simulated"));

        List<ILoggingEvent> errors = logs.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage()).startsWith("fatal error errorId=");
        assertThat(count(registry, "backstop.panics", "source", "handler", "exception", "OutOfMemoryError"))
                .isEqualTo(1.0);
        assertThat(count(registry, "backstop.responses", "outcome", "container", "reason", "fatal")).isEqualTo(1.0);
        // Rethrown: the container, not Backstop, answers it.
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).doesNotStartWith("application/problem+json");
    }
}
