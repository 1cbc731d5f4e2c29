package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.http.HttpServletRequest;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The integration API for frameworks that catch a failure before the filter can (a JAX-RS mapper, an error handler
 * that answers itself): {@code RecoveryFilter.report}, {@code answer} and {@code abort} give the same line, counters
 * and 500 as the filter, once per failure.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class IntegrationApiTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final AtomicReference<String> reportedId = new AtomicReference<>();

    IntegrationApiTest(Container container) {
        this.container = container;
    }

    private ServletServer server() throws Exception {
        return harness.server(container, harness.filter().build())
                .route("/answer", (request, response) -> {
                    try {
                        throw new IllegalStateException("caught by the framework");
                    } catch (IllegalStateException e) {
                        assertThat(RecoveryFilter.answer(request, response, e)).isTrue();
                    }
                })
                .route("/report-then-answer", (request, response) -> {
                    IllegalStateException failure = new IllegalStateException("reported, then answered");
                    reportedId.set(RecoveryFilter.report(request, failure));
                    RecoveryFilter.answer(request, response, failure);
                })
                .route("/mapper", (request, response) -> {
                    // An application's catch-all mapper that writes its own answer, and keeps counting.
                    String errorId = RecoveryFilter.report(request, new IllegalArgumentException("mapped"));
                    response.setStatus(503);
                    response.getWriter().write("sorry, " + errorId);
                })
                .route("/answer-then-rethrow", (request, response) -> {
                    IllegalStateException failure = new IllegalStateException("answered, then escaping");
                    RecoveryFilter.answer(request, response, failure);
                    throw failure;
                })
                .route("/abort", (request, response) -> {
                    response.getOutputStream().write(new byte[4096]);
                    response.flushBuffer();
                    String errorId = RecoveryFilter.report(request, new IllegalStateException("entity write failed"));
                    reportedId.set(errorId);
                    assertThat(RecoveryFilter.abort(request, response)).isTrue();
                })
                .start();
    }

    @Test
    void answerGivesTheFiltersProblemJson500LoggedAndCountedOnce() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server().port(), "/answer");

        String errorId = Answers.assertProblemJson500(exchange);
        Answers.assertOnePanicLine(harness, errorId);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
    }

    @Test
    void aReportedFailureAnsweredLaterKeepsItsIdAndIsCountedOnce() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server().port(), "/report-then-answer");

        String errorId = Answers.assertProblemJson500(exchange);
        assertThat(errorId).isEqualTo(reportedId.get());
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
        assertThat(harness.errors()).hasSize(1);
    }

    @Test
    void reportKeepsCountingThroughAnApplicationsOwnAnswer() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server().port(), "/mapper");

        assertThat(exchange.head()).startsWith("HTTP/1.1 503");
        assertThat(harness.errors()).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                .contains("path=/mapper", "exception=java.lang.IllegalArgumentException"));
        String errorId = harness.errors().get(0).getMDCPropertyMap().get("errorId");
        assertThat(exchange.body()).contains("sorry, " + errorId);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalArgumentException"))
                .isEqualTo(1);
    }

    @Test
    void aFailureAnsweredAndThenLetEscapeIsNotAnsweredTwice() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server().port(), "/answer-then-rethrow");

        Answers.assertProblemJson500(exchange);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "panic")).isEqualTo(1);
    }

    @Test
    void abortEndsACommittedResponseWithoutACleanEnd() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server().port(), "/abort", true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200");
        assertThat(exchange.text()).doesNotEndWith("0\r\n\r\n");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(harness.count("backstop.responses", "outcome", "aborted", "reason", "panic")).isEqualTo(1);
        Answers.assertOnePanicLine(harness, reportedId.get());
    }

    @Test
    void aRequestNoFilterGuardsIsRefusedWithWhatToDo() throws Exception {
        AtomicReference<Throwable> refused = new AtomicReference<>();
        org.eclipse.jetty.server.Server plain = harness.plainJetty(new org.eclipse.jetty.ee10.servlet
                .ServletContextHandler("/") {
            {
                addServlet(new org.eclipse.jetty.ee10.servlet.ServletHolder(ServletServer.servlet((request, response)
                        -> {
                    try {
                        RecoveryFilter.report((HttpServletRequest) request, new IllegalStateException("x"));
                    } catch (IllegalStateException e) {
                        refused.set(e);
                    }
                })), "/*");
            }
        });
        RawHttp.get(Harness.port(plain), "/unguarded");

        assertThat(refused.get()).hasMessageContaining("no dev.backstop.RecoveryFilter guards this request");
        assertThatThrownBy(() -> RecoveryFilter.report(null, new IllegalStateException()))
                .isInstanceOf(NullPointerException.class).hasMessage("request cannot be null");
    }
}
