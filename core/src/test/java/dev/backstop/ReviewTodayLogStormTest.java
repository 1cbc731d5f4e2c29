package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Log storms keyed by source, exception class and top three frames, tried under a front controller. Spring MVC's
 * FrameworkServlet.processRequest wraps every exception a controller throws in
 * {@code new ServletException("Request processing failed: " + ex, ex)}: the wrapper is made at the same place for
 * every controller, so its class and top frames are the same for every bug of the application. The limiter keys on
 * that wrapper (the panic line itself names the unwrapped cause): a storm of one bug hides the stack of every other
 * bug of the application for the whole window, and the other bug's short line points at the first bug's stack
 * ({@code stackLoggedAs}).
 */
class ReviewTodayLogStormTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();

    /** What a front controller does: finds the handler by path, wraps whatever it throws. */
    private static void frontController(HttpServletRequest request) throws ServletException {
        try {
            if (request.getRequestURI().startsWith("/orders")) {
                orders();
            } else {
                payments();
            }
        } catch (RuntimeException ex) {
            throw new ServletException("Request processing failed: " + ex, ex);
        }
    }

    private static void orders() {
        throw new IllegalStateException("the order service is down");
    }

    private static void payments() {
        Object missing = null;
        missing.hashCode(); // a NullPointerException: a different bug, a different class, another handler
    }

    private int get(TestServer server, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /**
     * Now that one storm spans every path of a handler, its summary names five paths and "and N more": N counts the
     * folded panics on paths beyond the fifth, not the paths (docs/log-catalogue.md: "at most 5 and a count of the
     * rest"). One more order hit four times reads as four more paths.
     */
    @Test
    void theSummaryCountsTheOtherPathsNotTheOtherPanics() throws Exception {
        Backstop backstop = Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(Duration.ofHours(1)).build();
        harness.closeAfter(backstop);
        TestServer server = harness.jetty(RecoveryFilter.builder().backstop(backstop).build())
                .route("/orders/*", (request, response) -> orders())
                .start();
        for (int id = 0; id <= 5; id++) {
            assertThat(get(server, "/orders/" + id)).isEqualTo(500); // 0 opens the window; 1..5 are named
        }
        for (int i = 0; i < 4; i++) {
            assertThat(get(server, "/orders/6")).isEqualTo(500); // one more path, four times
        }
        server.close();
        backstop.close(); // writes the pending summary

        List<String> summaries = harness.at(ch.qos.logback.classic.Level.WARN).stream()
                .map(ILoggingEvent::getFormattedMessage).filter(line -> line.startsWith("panics folded: ")).toList();
        assertThat(summaries).singleElement().asString().startsWith("panics folded: 9 more")
                .contains(" and 1 more");
    }
}
