package dev.backstop;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import io.restassured.response.Response;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Failures that end an async cycle outside any filter call, and failures in error pages. */
class AsyncAndErrorDispatchTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = harness.jetty()
                .route("/read", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    async.setTimeout(0);
                    ServletInputStream input = request.getInputStream();
                    // The read callbacks run after the filter chain has returned; the listener's failure reaches
                    // only AsyncListener.onError.
                    input.setReadListener(new ReadListener() {
                        @Override
                        public void onDataAvailable() {
                            throw new IllegalArgumentException("cannot parse the upload");
                        }

                        @Override
                        public void onAllDataRead() {
                            async.complete();
                        }

                        @Override
                        public void onError(Throwable failure) {
                            throw new IllegalStateException("read listener gave up", failure);
                        }
                    });
                })
                .route("/not-found", (request, response) -> response.sendError(404))
                .route("/error-page", (request, response) -> {
                    throw new IllegalStateException("the error page itself is broken");
                });
        ErrorPageErrorHandler errorPages = new ErrorPageErrorHandler();
        errorPages.addErrorPage(404, "/error-page");
        server.context().setErrorHandler(errorPages);
        server.start();
    }

    @Test
    void failureThatEndsAnAsyncCycleIsCaughtThroughAsyncListener() throws IOException {
        Response response = given().port(server.port()).body("some upload").post("/read");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        String errorId = response.jsonPath().getString("errorId");
        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage())
                .startsWith("panic errorId=" + errorId + " source=handler method=POST path=/read");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1.0);
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
    }

    @Test
    void failingErrorPageIsAnsweredWithTheProblem500() {
        Response response = given().port(server.port()).get("/not-found");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).getFormattedMessage())
                .contains("method=GET path=/not-found dispatch=ERROR");
        assertThat(harness.total("backstop.panics")).isEqualTo(1.0);
    }
}
