package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A handler that called {@code sendError} and then threw (Jersey does exactly this with an unmapped exception:
 * {@code sendError(500, "Request failed.")}, then rethrow). {@code sendError} makes {@code isCommitted()} true on
 * every container, but nothing is on the wire yet: the client must get Backstop's 500, not an empty closed
 * connection (Jetty) nor the container's HTML page with the exception's class, message and stack (Tomcat).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class SendErrorThenThrowTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private ServletServer server;

    SendErrorThenThrowTest(Container container) {
        this.container = container;
    }

    @BeforeEach
    void start() throws Exception {
        harness.expectNoUncaught();
        server = harness.server(container, harness.filter().build())
                .route("/not-found-then-throw", (request, response) -> {
                    response.sendError(404);
                    throw new IllegalStateException("thrown after sendError(404): secret hunter2");
                })
                .route("/jersey-style", (request, response) -> {
                    response.sendError(500, "Request failed.");
                    throw new IllegalStateException("thrown after sendError(500): secret hunter2");
                })
                .route("/not-found", (request, response) -> response.sendError(404))
                .start();
    }

    private void assertBackstopAnswered(RawHttp.Exchange exchange) {
        String errorId = Answers.assertProblemJson500(exchange);
        assertThat(exchange.text()).as("what the client got")
                .doesNotContain("IllegalStateException", "secret", "hunter2", "sendError", "Request failed.",
                        "Exception", "at dev.backstop");
        Answers.assertOnePanicLine(harness, errorId);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "panic")).isEqualTo(1);
        assertThat(harness.total("backstop.responses")).isEqualTo(1);
    }

    @Test
    void aThrowAfterSendError404IsAnsweredWithBackstops500() throws Exception {
        assertBackstopAnswered(RawHttp.get(server.port(), "/not-found-then-throw"));
    }

    @Test
    void aThrowAfterSendError500AsJerseyDoesIsAnsweredWithBackstops500() throws Exception {
        assertBackstopAnswered(RawHttp.get(server.port(), "/jersey-style"));
    }

    /** No failure, no Backstop: the container's own 404 page, as without the filter. */
    @Test
    void sendErrorFollowedByANormalReturnIsLeftToTheContainer() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/not-found");

        assertThat(exchange.head()).startsWith("HTTP/1.1 404");
        assertThat(exchange.header("Content-Type")).startsWith("text/html");
        assertThat(exchange.ending()).isEqualTo(RawHttp.Ending.CLOSED);
        assertThat(harness.logs().all()).isEmpty();
        assertThat(harness.total("backstop.panics")).isZero();
        assertThat(harness.total("backstop.responses")).isZero();
    }
}
