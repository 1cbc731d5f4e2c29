package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.ContainerLogs;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two settings of the filter: {@code keep-headers} ({@code keepHeaders(String...)}), the headers that survive the
 * reset before Backstop's 500, and {@code use-error-pages} ({@code useErrorPages(boolean)}), which leaves the body
 * of the 500 to the application's own error pages.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class KeepHeadersAndErrorPagesTest {

    /** The headers an application's outer filter sets before the chain runs, as request-id and CORS filters do. */
    private static final Map<String, String> OUTER_HEADERS = new LinkedHashMap<>();

    static {
        OUTER_HEADERS.put("X-Request-Id", "abc-123");
        OUTER_HEADERS.put("Access-Control-Allow-Origin", "https://app.example");
        OUTER_HEADERS.put("Vary", "Origin");
        OUTER_HEADERS.put("Strict-Transport-Security", "max-age=31536000");
        OUTER_HEADERS.put("X-Content-Type-Options", "nosniff");
        OUTER_HEADERS.put("Content-Security-Policy", "default-src 'self'");
        OUTER_HEADERS.put("X-Frame-Options", "DENY");
    }

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    KeepHeadersAndErrorPagesTest(Container container) {
        this.container = container;
    }

    private static Filter outerHeaderFilter() {
        return (request, response, chain) -> {
            HttpServletResponse http = (HttpServletResponse) response;
            OUTER_HEADERS.forEach(http::setHeader);
            chain.doFilter(request, response);
        };
    }

    /** An outer filter that sets {@link #OUTER_HEADERS}, then a handler that sets a cookie and a header and throws. */
    private ServletServer start(ServletServer server) throws Exception {
        return server.outerFilter(outerHeaderFilter())
                .route("/panic", (request, response) -> {
                    response.setHeader("Set-Cookie", "session=secret");
                    response.setHeader("X-Handler", "was here");
                    throw new IllegalStateException("the handler failed");
                })
                .start();
    }

    private RawHttp.Exchange panic(ServletServer server) throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/panic");
        String errorId = Answers.assertProblemJson500(exchange);
        Answers.assertOnePanicLine(harness, errorId);
        assertThat(exchange.header("Set-Cookie")).as("Set-Cookie never survives").isNull();
        assertThat(exchange.text()).doesNotContain("session=secret");
        assertThat(exchange.header("X-Handler")).as("X-Handler").isNull();
        assertThat(exchange.header("Cache-Control")).isEqualTo("no-store");
        return exchange;
    }

    private static void assertKept(RawHttp.Exchange exchange, String... kept) {
        java.util.Set<String> keep = java.util.Set.of(kept);
        OUTER_HEADERS.forEach((name, value) -> {
            if (keep.contains(name)) {
                assertThat(exchange.header(name)).as("%s, kept; the head:%n%s", name, exchange.head())
                        .isEqualTo(value);
            } else {
                assertThat(exchange.header(name)).as("%s, not kept; the head:%n%s", name, exchange.head()).isNull();
            }
        });
    }

    @Test
    void theDefaultKeepsTheRequestIdCorsAndSecurityHeadersOfAnOuterFilter() throws Exception {
        assertThat(RecoveryFilter.DEFAULT_KEEP_HEADERS).isEqualTo("X-Request-Id, X-Correlation-Id, Access-Control-*, "
                + "Vary, Strict-Transport-Security, X-Content-Type-Options, Content-Security-Policy, X-Frame-Options");
        ServletServer server = start(harness.server(container, harness.filter().build()));

        assertKept(panic(server), OUTER_HEADERS.keySet().toArray(String[]::new));
    }

    @Test
    void theDefaultFromInitParamsIsTheSame() throws Exception {
        ServletServer server = start(harness.server(container, Map.of()));

        assertKept(panic(server), OUTER_HEADERS.keySet().toArray(String[]::new));
    }

    @Test
    void keepHeadersNamesExactlyTheHeadersThatSurvive() throws Exception {
        ServletServer server = start(harness.server(container, harness.filter().keepHeaders("X-Request-Id").build()));

        assertKept(panic(server), "X-Request-Id");
    }

    @Test
    void setCookieNeverSurvivesEvenWhenListedInTheInitParam() throws Exception {
        ServletServer server = start(harness.server(container, Map.of("keep-headers", "Set-Cookie, X-Request-Id")));

        assertKept(panic(server), "X-Request-Id");
    }

    @Test
    void aPrefixPatternKeepsEveryHeaderItMatches() throws Exception {
        ServletServer server = start(harness.server(container,
                harness.filter().keepHeaders("Access-Control-*", "X-Frame-Options").build()));

        assertKept(panic(server), "Access-Control-Allow-Origin", "X-Frame-Options");
    }

    @Test
    void noNamesKeepNoHeaders() throws Exception {
        ServletServer server = start(harness.server(container, harness.filter().keepHeaders().build()));

        assertKept(panic(server));
    }

    // use-error-pages

    private static final String EXCEPTION_PAGE = "{\"page\":\"for IllegalStateException\"}";
    private static final String STATUS_PAGE = "{\"page\":\"for 500\"}";

    /** Error pages for IllegalStateException and for 500, and a handler that throws an IllegalStateException. */
    private ServletServer startWithErrorPages(RecoveryFilter filter) throws Exception {
        return harness.server(container, filter)
                .errorPage(IllegalStateException.class, "/error/exception")
                .errorPage(500, "/error/500")
                .route("/error/exception", (request, response) -> {
                    response.setContentType("application/json");
                    response.getOutputStream().write(EXCEPTION_PAGE.getBytes(StandardCharsets.UTF_8));
                })
                .route("/error/500", (request, response) -> {
                    response.setContentType("application/json");
                    response.getOutputStream().write(STATUS_PAGE.getBytes(StandardCharsets.UTF_8));
                })
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("the handler failed: secret hunter2");
                })
                .start();
    }

    @Test
    void withUseErrorPagesTheContainersPageForTheExceptionAnswersReportedOnce() throws Exception {
        ContainerLogs containerLogs = ContainerLogs.capture(harness);
        ServletServer server = startWithErrorPages(harness.filter().useErrorPages(true).build());

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/panic");

        assertThat(exchange.head()).as("what the client got:%n%s", exchange.text()).startsWith("HTTP/1.1 500");
        assertThat(exchange.content()).isEqualTo(EXCEPTION_PAGE);
        assertThat(exchange.text()).doesNotContain("secret", "hunter2");
        server.close(); // every request thread is done: nothing more can be logged
        assertThat(harness.errors()).as("Backstop's ERROR lines").hasSize(1);
        assertThat(harness.errors().get(0).getFormattedMessage()).startsWith("panic ").contains("path=/panic");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertThat(containerLogs.withStack()).as("stacks the container logged").isEmpty();
        assertThat(containerLogs.errors()).as("the container's SEVERE/ERROR lines").isEmpty();
    }

    @Test
    void withUseErrorPagesFromTheInitParamTheSame() throws Exception {
        ServletServer server = harness.server(container, Map.of("use-error-pages", "true"))
                .errorPage(IllegalStateException.class, "/error/exception")
                .route("/error/exception", (request, response) -> {
                    response.setContentType("application/json");
                    response.getOutputStream().write(EXCEPTION_PAGE.getBytes(StandardCharsets.UTF_8));
                })
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("the handler failed");
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/panic");

        assertThat(exchange.head()).startsWith("HTTP/1.1 500");
        assertThat(exchange.content()).isEqualTo(EXCEPTION_PAGE);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
    }

    @Test
    void byDefaultBackstopAnswersEvenWhenTheApplicationHasErrorPages() throws Exception {
        ServletServer server = startWithErrorPages(harness.filter().build());

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/panic");

        String errorId = Answers.assertProblemJson500(exchange);
        assertThat(exchange.text()).doesNotContain("\"page\"", "secret");
        Answers.assertOnePanicLine(harness, errorId);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
    }
}
