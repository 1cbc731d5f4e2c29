package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Log storms, with the paths production has: ids in paths do not split one handler's storm, and the paths a summary
 * quotes are escaped and cut as every other line's are.
 */
class LogStormPathsTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();
    private TestServer server;

    private Backstop backstop() {
        Backstop backstop = Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(Duration.ofHours(1)).build();
        harness.closeAfter(backstop);
        return backstop;
    }

    private int get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    private List<ILoggingEvent> stacks() {
        return harness.errors().stream().filter(e -> e.getFormattedMessage().startsWith("panic ")
                && e.getThrowableProxy() != null).toList();
    }

    /**
     * One handler, one bug, one exception class: a storm on {@code /orders/{id}}, as every REST API has, is one kind
     * however many orders it touches: at most one stack per kind per window (docs/operating.md "Log storms").
     */
    @Test
    void aStormOnOnePathTemplateWithIdsInThePathIsFolded() throws Exception {
        server = harness.jetty(RecoveryFilter.builder().backstop(backstop()).build())
                .route("/orders/*", (request, response) -> {
                    throw new IllegalStateException("the order service is down");
                })
                .start();
        for (int id = 1; id <= 50; id++) {
            assertThat(get("/orders/" + id)).isEqualTo(500);
        }

        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(50);
        assertThat(stacks()).as("stacks written for 50 identical panics of one handler within one window")
                .hasSizeLessThanOrEqualTo(5);
    }

    /**
     * docs/log-catalogue.md: values a client controls are escaped and cut; the summary's {@code paths=} too, while the
     * panic line itself cuts the path at 1,024 characters.
     */
    @Test
    void theSummaryCutsAClientsLongPathAsEveryOtherLineDoes() throws Exception {
        Backstop backstop = backstop();
        server = harness.jetty(RecoveryFilter.builder().backstop(backstop).build())
                .route("/long/*", (request, response) -> {
                    throw new IllegalStateException("failure");
                })
                .start();
        String path = "/long/" + "a".repeat(4000);
        for (int i = 0; i < 3; i++) {
            assertThat(get(path)).isEqualTo(500);
        }
        assertThat(stacks()).hasSize(1);
        assertThat(stacks().get(0).getFormattedMessage()).as("the panic line cuts the path")
                .doesNotContain(path).contains("more chars");

        server.close();
        backstop.close(); // writes the pending summary
        List<String> summaries = harness.at(Level.WARN).stream().map(ILoggingEvent::getFormattedMessage)
                .filter(line -> line.startsWith("panics folded: ")).toList();
        assertThat(summaries).hasSize(1);
        assertThat(summaries.get(0)).as("the summary line").doesNotContain(path);
        assertThat(summaries.get(0).length()).as("the summary line's length").isLessThan(2000);
    }

    /** The same for the leak summary, which names up to five paths: five 4,000-character paths, one 20 KB line. */
    @Test
    void theLeakSummaryCutsClientsLongPaths() throws Exception {
        Backstop backstop = backstop();
        server = harness.jetty(RecoveryFilter.builder().backstop(backstop).build())
                .route("/leak/*", (request, response) -> {
                    ChildTasks.builder(request).name("forgotten").open(); // never closed
                })
                .start();
        for (int i = 0; i < 6; i++) {
            assertThat(get("/leak/" + i + "a".repeat(4000))).isEqualTo(200);
        }
        server.close();
        backstop.close();

        List<String> summaries = harness.at(Level.WARN).stream().map(ILoggingEvent::getFormattedMessage)
                .filter(line -> line.startsWith("lines folded: ")).toList();
        assertThat(summaries).hasSize(1);
        assertThat(summaries.get(0).length()).as("the leak summary line's length").isLessThan(8000);
    }

    private int getFrom(TestServer other, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(other.uri(path)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /**
     * A storm spans every path of a handler; its summary names five paths and "and N more", N counting the other
     * distinct paths (docs/log-catalogue.md), not the panics on them: one more order hit four times is one more path.
     */
    @Test
    void theSummaryCountsTheOtherPathsNotTheOtherPanics() throws Exception {
        Backstop backstop = Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(Duration.ofHours(1)).build();
        harness.closeAfter(backstop);
        TestServer server = harness.jetty(RecoveryFilter.builder().backstop(backstop).build())
                .route("/orders/*", (request, response) -> {
                    throw new IllegalStateException("the order service is down");
                })
                .start();
        for (int id = 0; id <= 5; id++) {
            assertThat(getFrom(server, "/orders/" + id)).isEqualTo(500); // 0 opens the window; 1..5 are named
        }
        for (int i = 0; i < 4; i++) {
            assertThat(getFrom(server, "/orders/6")).isEqualTo(500); // one more path, four times
        }
        server.close();
        backstop.close(); // writes the pending summary

        List<String> summaries = harness.at(ch.qos.logback.classic.Level.WARN).stream()
                .map(ILoggingEvent::getFormattedMessage).filter(line -> line.startsWith("panics folded: ")).toList();
        assertThat(summaries).singleElement().asString().startsWith("panics folded: 9 more")
                .contains(" and 1 more");
    }
}
