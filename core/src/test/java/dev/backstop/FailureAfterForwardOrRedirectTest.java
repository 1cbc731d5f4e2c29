package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A failure after the handler finished its answer with a forward or a redirect: work after the answer fails, as a
 * transaction committed after a POST-redirect-GET fails on a deadlock. Tomcat suspends the response ({@code sendRedirect}, and
 * {@code ResponseFacade.finish()} after a forward) without an error and without sending anything; the Servlet API
 * then calls it committed, so {@code reset()} refuses, and Backstop aborts a connection on which nothing was sent.
 * The client must get an HTTP answer (the redirect or forward that is ready, or Backstop's 500), never a reset with
 * no bytes at all, which browsers show as "connection reset" and proxies as a 502.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class FailureAfterForwardOrRedirectTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private ServletServer server;

    FailureAfterForwardOrRedirectTest(Container container) {
        this.container = container;
    }

    /**
     * {@code sendRedirect(String)}. The test classpath has the Servlet 6.0 API, where it is abstract, and Tomcat 11
     * implements 6.1, where it is a default method calling the three-argument form; call that form when it is there.
     */
    private static void redirect(HttpServletResponse response, String location) throws Exception {
        try {
            response.getClass().getMethod("sendRedirect", String.class, int.class, boolean.class)
                    .invoke(response, location, HttpServletResponse.SC_FOUND, true);
        } catch (NoSuchMethodException servlet60) {
            response.sendRedirect(location);
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = harness.server(container, harness.filter().build())
                .route("/forward-then-fail", (request, response) -> {
                    request.getRequestDispatcher("/target").forward(request, response);
                    throw new IllegalStateException("failed after the forward");
                })
                .route("/target", (request, response) -> response.getWriter().print("forwarded"))
                .route("/redirect-then-fail", (request, response) -> {
                    redirect(response, "/done");
                    throw new IllegalStateException("failed after the redirect");
                })
                .start();
    }

    private void assertAnHttpAnswer(RawHttp.Exchange exchange) {
        assertThat(exchange.text()).as("what the client got (ending %s)", exchange.ending()).startsWith("HTTP/1.1 ");
        if (exchange.head().startsWith("HTTP/1.1 500")) {
            Answers.assertProblemJson500(exchange);
        }
        // Jetty sends a forward's or a redirect's answer before the handler goes on and fails: the panic may be
        // reported just after the client has it.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(harness.total("backstop.panics")).isEqualTo(1));
    }

    @Test
    void aFailureAfterAForwardGetsAnHttpAnswerNotABareReset() throws Exception {
        assertAnHttpAnswer(RawHttp.get(server.port(), "/forward-then-fail"));
    }

    @Test
    void aFailureAfterARedirectGetsAnHttpAnswerNotABareReset() throws Exception {
        assertAnHttpAnswer(RawHttp.get(server.port(), "/redirect-then-fail"));
    }
}
