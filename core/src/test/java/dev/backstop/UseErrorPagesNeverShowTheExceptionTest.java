package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code use-error-pages} hands the body of a panic's 500 to the application's error pages. Most applications have
 * pages for some statuses only (a 404 page is the usual one), or none. When no page matches, the container's own
 * default page answers, and Backstop has just put the failure where that page reads it
 * ({@code jakarta.servlet.error.exception}, and Jetty's {@code org.eclipse.jetty.server.error_exception}): Tomcat's
 * {@code ErrorReportValve} then prints the exception's class, message and stack to the client, and so does Jetty's
 * {@code ErrorPageErrorHandler} ("CAUSED BY", then the stack) once the application has any error page. The contract holds for every setting: no exception class, message or stack in
 * the body unless {@code expose-stack-traces} is on.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class UseErrorPagesNeverShowTheExceptionTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    UseErrorPagesNeverShowTheExceptionTest(Container container) {
        this.container = container;
    }

    private ServletServer withPanic(ServletServer server) {
        return server.route("/panic", (request, response) -> {
            throw new IllegalStateException("the handler failed: secret hunter2");
        });
    }

    private void assertNothingOfTheFailureShown(RawHttp.Exchange exchange) {
        assertThat(exchange.head()).as("what the client got:%n%s", exchange.text()).startsWith("HTTP/1.1 500");
        assertThat(exchange.text()).as("what the client got")
                .doesNotContain("hunter2", "IllegalStateException", "the handler failed", "dev.backstop.");
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
    }

    @Test
    void withOnlyA404PageAPanicShowsNothingOfTheFailure() throws Exception {
        ServletServer server = withPanic(harness.server(container, harness.filter().useErrorPages(true).build()))
                .errorPage(404, "/not-found-page")
                .route("/not-found-page", (request, response) -> {
                    response.setContentType("text/plain");
                    response.getOutputStream().write("no such page".getBytes(StandardCharsets.UTF_8));
                })
                .start();

        assertNothingOfTheFailureShown(RawHttp.get(server.port(), "/panic"));
    }

    @Test
    void withNoErrorPagesAtAllAPanicShowsNothingOfTheFailure() throws Exception {
        ServletServer server = withPanic(harness.server(container, harness.filter().useErrorPages(true).build()))
                .start();

        assertNothingOfTheFailureShown(RawHttp.get(server.port(), "/panic"));
    }
}
