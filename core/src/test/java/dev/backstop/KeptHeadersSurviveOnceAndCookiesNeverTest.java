package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import dev.backstop.testing.TestServer;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Arrays;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.SessionHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code keep-headers} with what real outer filters set: a CORS filter adds {@code Vary: Origin}, a compression
 * filter {@code Vary: Accept-Encoding}; the 500 must carry each kept value once, as the handler's response would
 * have. Tomcat's {@code getHeaderNames()} names a header once per value, so copying {@code getHeaders(name)} for
 * every name it returns multiplies the values (and every further reset multiplies them again). And
 * {@code Set-Cookie} never survives: not even the session cookie of a session the failing handler created, which
 * Jetty's {@code reset()} puts back on its own.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class KeptHeadersSurviveOnceAndCookiesNeverTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    KeptHeadersSurviveOnceAndCookiesNeverTest(Container container) {
        this.container = container;
    }

    private static Filter corsAndCompressionVary() {
        return (request, response, chain) -> {
            HttpServletResponse http = (HttpServletResponse) response;
            http.addHeader("Vary", "Origin");
            http.addHeader("Vary", "Accept-Encoding");
            chain.doFilter(request, response);
        };
    }

    private static List<String> headerLines(RawHttp.Exchange exchange, String name) {
        return Arrays.stream(exchange.head().split("\r\n"))
                .filter(line -> line.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                .toList();
    }

    @Test
    void aMultiValuedKeptHeaderIsKeptWithEachValueOnce() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .outerFilter(corsAndCompressionVary())
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("the handler failed");
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/panic");

        Answers.assertProblemJson500(exchange);
        assertThat(headerLines(exchange, "Vary")).as("the Vary lines of:%n%s", exchange.head())
                .containsExactly("Vary: Origin", "Vary: Accept-Encoding");
    }

    @Test
    void aFatalErrorsBare500KeepsEachValueOnce() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .outerFilter(corsAndCompressionVary())
                .route("/fatal", (request, response) -> {
                    throw new OutOfMemoryError("simulated");
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/fatal");

        assertThat(exchange.head()).startsWith("HTTP/1.1 500");
        assertThat(headerLines(exchange, "Vary")).as("the Vary lines of:%n%s", exchange.head())
                .containsExactly("Vary: Origin", "Vary: Accept-Encoding");
    }

    @Test
    void theSessionCookieOfASessionTheFailingHandlerCreatedDoesNotSurvive() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/login-then-fail", (request, response) -> {
                    request.getSession(true).setAttribute("user", "alice"); // half a login
                    throw new IllegalStateException("the login failed half-way");
                });
        if (server instanceof TestServer jetty) {
            jetty.context().setSessionHandler(new SessionHandler()); // Tomcat has sessions by default
        }
        server.start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/login-then-fail");

        Answers.assertProblemJson500(exchange);
        assertThat(headerLines(exchange, "Set-Cookie")).as("Set-Cookie never survives; the head:%n%s", exchange.head())
                .isEmpty();
    }
}
