package dev.backstop.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import io.restassured.path.json.JsonPath;
import java.util.List;

/** Assertions on what Backstop answered, read from the raw wire ({@link RawHttp}) and the harness. */
public final class Answers {

    private Answers() {
    }

    /**
     * Asserts that {@code exchange} is Backstop's own 500: {@code application/problem+json}, {@code Cache-Control:
     * no-store}, an RFC 9457 body with status 500 and a 16-hex {@code errorId}, and no container HTML.
     *
     * @return the body's error id
     */
    public static String assertProblemJson500(RawHttp.Exchange exchange) {
        assertThat(exchange.head()).as("what the client got:%n%s", exchange.text()).startsWith("HTTP/1.1 500");
        assertThat(exchange.header("Content-Type")).as("Content-Type of:%n%s", exchange.text())
                .isEqualTo("application/problem+json");
        assertThat(exchange.header("Cache-Control")).as("Cache-Control").isEqualTo("no-store");
        String content = exchange.content();
        assertThat(content).as("body").doesNotContainIgnoringCase("<html").doesNotContain("<!doctype");
        JsonPath json = JsonPath.from(content);
        assertThat(json.getInt("status")).isEqualTo(500);
        String errorId = json.getString("errorId");
        assertThat(errorId).as("errorId").matches("[0-9a-f]{16}");
        return errorId;
    }

    /**
     * Asserts that Backstop logged exactly one ERROR line, a handler panic with {@code errorId} (in the line and in
     * the MDC), and returns it.
     */
    public static ILoggingEvent assertOnePanicLine(Harness harness, String errorId) {
        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).as("Backstop's ERROR lines").hasSize(1);
        ILoggingEvent line = errors.get(0);
        assertThat(line.getFormattedMessage()).startsWith("panic errorId=" + errorId + " source=handler");
        assertThat(line.getMDCPropertyMap()).containsEntry("errorId", errorId);
        return line;
    }
}
