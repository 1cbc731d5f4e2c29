package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.ServletException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Frameworks wrap what a handler throws in a plain {@code ServletException} (Spring MVC: "Request processing failed:
 * ..."). The ERROR line must name what was really thrown, as the meter tag and the log-storm kind already do: its
 * class and its message (escaped), not the wrapper's.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class PanicLineNamesTheUnwrappedExceptionTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    PanicLineNamesTheUnwrappedExceptionTest(Container container) {
        this.container = container;
    }

    @Test
    void theErrorLineNamesTheExceptionUnderAPlainServletException() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/wrapped", (request, response) -> {
                    throw new ServletException("Request processing failed: boom",
                            new IllegalStateException("boom \"quoted\""));
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/wrapped");

        String errorId = Answers.assertProblemJson500(exchange);
        ILoggingEvent line = Answers.assertOnePanicLine(harness, errorId);
        assertThat(line.getFormattedMessage())
                .contains(" exception=java.lang.IllegalStateException ")
                .contains(" message=\"boom \\\"quoted\\\"\"")
                .doesNotContain("ServletException")
                .doesNotContain("Request processing failed");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
    }
}
