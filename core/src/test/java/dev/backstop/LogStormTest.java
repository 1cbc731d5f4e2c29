package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestClock;
import dev.backstop.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Log storms: identical panics are logged with their stack once per interval and folded into a summary line, while
 * every panic is still counted and answered with its own error id. Windows are measured on a {@link TestClock} where
 * time matters, so no test waits for a window to end.
 */
class LogStormTest {

    private static final Pattern SUMMARY = Pattern.compile(
            "panics folded: (\\d+) more like panic errorId=([0-9a-f]{16}) \\(source=(\\w+) exception=([\\w.$]+) at=.*\\)"
                    + " within \\S+(?: paths=(?<paths>\\S+(?: and \\d+ more)?))? errorIds \\(sample\\)=(?<ids>[0-9a-f,]+)");

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();
    private final TestClock clock = new TestClock();
    private TestServer server;

    /** A filter whose own Backstop measures log-storm windows of {@code interval} on the test's clock. */
    private RecoveryFilter onTheClock(Duration interval) {
        return RecoveryFilter.builder().backstop(closeAfter(Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(interval).nanoTime(clock).build())).build();
    }

    private Backstop closeAfter(Backstop backstop) {
        harness.closeAfter(backstop);
        return backstop;
    }

    private void start(RecoveryFilter filter) throws Exception {
        server = harness.jetty(filter)
                .route("/same", (request, response) -> {
                    throw new IllegalStateException("the same failure, request " + request.getQueryString());
                })
                .route("/other", (request, response) -> {
                    throw new IllegalArgumentException("another failure");
                })
                .start();
    }

    private String errorIdOf(String path) throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri(path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(500);
        Matcher id = Pattern.compile("\"errorId\":\"([0-9a-f]{16})\"").matcher(response.body());
        assertThat(id.find()).as(response.body()).isTrue();
        return id.group(1);
    }

    /** The panic lines with their stack (the folded ones have none). */
    private List<ILoggingEvent> panicLines() {
        return harness.errors().stream().filter(e -> e.getFormattedMessage().startsWith("panic ")
                && e.getThrowableProxy() != null).toList();
    }

    /** The short lines of folded panics. */
    private List<ILoggingEvent> foldedLines() {
        return harness.errors().stream().filter(e -> e.getFormattedMessage().startsWith("panic ")
                && e.getThrowableProxy() == null).toList();
    }

    private List<Matcher> summaries() {
        List<Matcher> found = new ArrayList<>();
        for (ILoggingEvent event : harness.at(Level.WARN)) {
            Matcher matcher = SUMMARY.matcher(event.getFormattedMessage());
            if (matcher.matches()) {
                found.add(matcher);
            }
        }
        return found;
    }

    @Test
    void identicalPanicsGetOneStackPerIntervalAndOneSummaryWithExactCounts() throws Exception {
        RecoveryFilter filter = harness.filter()
                .logStormInterval(Duration.ofHours(1)).build();
        start(filter);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            ids.add(errorIdOf("/same?n=" + i));
        }

        // Every client has its own error id, and every panic is counted.
        assertThat(new HashSet<>(ids)).hasSize(50);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(50);
        // One line with a stack: the first, with the first client's id.
        assertThat(panicLines()).hasSize(1);
        assertThat(panicLines().get(0).getFormattedMessage()).contains("errorId=" + ids.get(0));
        assertThat(panicLines().get(0).getThrowableProxy()).isNotNull();
        assertThat(harness.count("backstop.folded.lines", "source", "handler")).isEqualTo(49);
        assertThat(summaries()).isEmpty(); // the hour is not over

        // Stopping the application writes the summary that is still pending.
        server.close();
        assertThat(summaries()).hasSize(1);
        Matcher summary = summaries().get(0);
        assertThat(summary.group(1)).isEqualTo("49");
        assertThat(summary.group(2)).isEqualTo(ids.get(0));
        assertThat(summary.group(3)).isEqualTo("handler");
        assertThat(summary.group(4)).isEqualTo(IllegalStateException.class.getName());
        assertThat(summary.group("ids").split(",")).hasSize(5).isSubsetOf(ids.subList(1, 50));
        // Nothing a client sent reaches the summary either.
        assertThat(summary.group(0)).doesNotContain("request ", "?n");
        // ...and the summary thread is gone with the application.
        await().atMost(Duration.ofSeconds(10)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("backstop-log-summary")));
    }

    @Test
    void everyFoldedPanicLeavesAFindableLineWithItsPathPointingAtTheStack() throws Exception {
        Backstop backstop = closeAfter(Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(Duration.ofHours(1)).nanoTime(clock).build());
        start(RecoveryFilter.builder().backstop(backstop).build());
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ids.add(errorIdOf("/same?n=" + i));
        }

        assertThat(panicLines()).as("one stack for the kind").hasSize(1);
        String first = ids.get(0);
        for (String id : ids) {
            List<ILoggingEvent> found = harness.errors().stream()
                    .filter(e -> e.getFormattedMessage().contains("errorId=" + id + " ")).toList();
            assertThat(found).as("the lines a grep for errorId=%s finds", id).singleElement().satisfies(line ->
                    assertThat(line.getFormattedMessage()).contains("source=handler method=GET path=/same exception="
                            + IllegalStateException.class.getName()));
        }
        assertThat(foldedLines()).hasSize(19).allSatisfy(line -> assertThat(line.getFormattedMessage())
                .endsWith(" folded=true stackLoggedAs=" + first));
        double bytes = foldedLines().stream().mapToInt(e -> e.getFormattedMessage().length()).average().orElse(0);
        System.out.printf("a folded panic's line: %.0f characters of message (no stack)%n", bytes);
        assertThat(bytes).as("characters per folded panic line").isLessThan(300);

        server.close();
        backstop.close(); // writes the pending summary
        Matcher summary = summaries().get(0);
        assertThat(summary.group(1)).isEqualTo("19");
        assertThat(summary.group("paths")).isEqualTo("/same");
    }

    @Test
    void aThousandIdenticalLeaksWriteABoundedNumberOfLinesAndCountAThousand() throws Exception {
        Backstop backstop = closeAfter(Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(Duration.ofHours(1)).nanoTime(clock).build());
        server = harness.jetty(RecoveryFilter.builder().backstop(backstop).build())
                .route("/leak", (request, response) -> {
                    ChildTasks.builder(request).name("forgotten").open(); // never closed: a leak at the request's end
                })
                .start();
        for (int i = 0; i < 1000; i++) {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri("/leak")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
        }
        server.close();
        backstop.close(); // writes the pending summary

        assertThat(harness.count("backstop.leaked.groups")).isEqualTo(1000);
        List<String> lines = harness.at(Level.WARN).stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines.stream().filter(line -> line.startsWith("child task group leaked: 'forgotten'")))
                .hasSize(1);
        assertThat(lines.stream().filter(line -> line.startsWith("lines folded: 999 more group_leaked lines like: "
                + "child task group leaked: 'forgotten' opened at ") && line.contains("paths=/leak"))).hasSize(1);
        assertThat(lines).hasSize(2);
    }

    @Test
    void differentFailuresAreEachLoggedInFull() throws Exception {
        start(harness.filter().logStormInterval(Duration.ofHours(1)).build());
        String same = errorIdOf("/same");
        String other = errorIdOf("/other");
        errorIdOf("/same");
        errorIdOf("/other");

        assertThat(panicLines()).extracting(ILoggingEvent::getFormattedMessage)
                .satisfiesExactly(line -> assertThat(line).contains("errorId=" + same),
                        line -> assertThat(line).contains("errorId=" + other));
        assertThat(harness.total("backstop.folded.lines")).isEqualTo(2);
        assertThat(harness.total("backstop.panics")).isEqualTo(4);
    }

    @Test
    void summaryIsWrittenWhenTheIntervalEndsWithoutAnotherFailure() throws Exception {
        start(onTheClock(Duration.ofSeconds(10)));
        int requests = 40;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            ids.add(errorIdOf("/same"));
        }
        assertThat(panicLines()).hasSize(1);
        assertThat(summaries()).as("the window is still open").isEmpty();

        clock.advance(Duration.ofSeconds(11));

        // The summary thread sees the window end and writes the summary with no other failure to trigger it.
        await().atMost(Duration.ofSeconds(10)).until(() -> !summaries().isEmpty());
        Matcher summary = summaries().get(0);
        assertThat(summary.group(1)).isEqualTo(String.valueOf(requests - 1));
        assertThat(summary.group(2)).isEqualTo(ids.get(0));
        assertThat(harness.count("backstop.folded.lines")).isEqualTo(requests - 1);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(requests);
        // The summary thread ends once nothing is folding.
        await().atMost(Duration.ofSeconds(10)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("backstop-log-summary")));
    }

    @Test
    void theFirstIdenticalPanicAfterTheWindowIsLoggedInFullAndClosesItsSummary() throws Exception {
        start(onTheClock(Duration.ofSeconds(10)));
        String first = errorIdOf("/same");
        errorIdOf("/same");
        errorIdOf("/same");

        clock.advance(Duration.ofSeconds(10));
        String next = errorIdOf("/same");

        assertThat(panicLines()).extracting(ILoggingEvent::getFormattedMessage)
                .satisfiesExactly(line -> assertThat(line).contains("errorId=" + first),
                        line -> assertThat(line).contains("errorId=" + next));
        assertThat(summaries()).hasSize(1);
        assertThat(summaries().get(0).group(1)).isEqualTo("2");
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(4);
    }

    @Test
    void anIdenticalPanicJustBeforeTheWindowEndsIsStillFolded() throws Exception {
        start(onTheClock(Duration.ofSeconds(10)));
        errorIdOf("/same");
        clock.advance(Duration.ofMillis(9_999));
        errorIdOf("/same");

        assertThat(panicLines()).hasSize(1);
        assertThat(harness.count("backstop.folded.lines")).isEqualTo(1);
    }

    /** As Spring MVC does: every handler failure wrapped in a ServletException made at the same place. */
    private static jakarta.servlet.ServletException wrap(Throwable cause) {
        return new jakarta.servlet.ServletException("Request processing failed: " + cause, cause);
    }

    @Test
    void failuresWrappedAtOneSiteAreToldApartByWhatTheyWrap() throws Exception {
        server = harness.jetty(harness.filter()
                .logStormInterval(Duration.ofHours(1)).build())
                .route("/wrapped", (request, response) -> {
                    throw wrap("state".equals(request.getParameter("kind"))
                            ? new IllegalStateException("one failure") : new IllegalArgumentException("another"));
                })
                .start();
        String state = errorIdOf("/wrapped?kind=state");
        String argument = errorIdOf("/wrapped?kind=argument");
        errorIdOf("/wrapped?kind=state");

        assertThat(panicLines()).extracting(ILoggingEvent::getFormattedMessage)
                .satisfiesExactly(line -> assertThat(line).contains("errorId=" + state),
                        line -> assertThat(line).contains("errorId=" + argument));
        assertThat(harness.total("backstop.folded.lines")).isEqualTo(1);
    }

    @Test
    void zeroIntervalLogsEveryPanic() throws Exception {
        start(harness.filter().logStormInterval(Duration.ZERO).build());
        for (int i = 0; i < 5; i++) {
            errorIdOf("/same");
        }
        assertThat(panicLines()).hasSize(5);
        assertThat(harness.total("backstop.folded.lines")).isZero();
    }

    @Test
    void childPanicsFoldPerTaskAndSourceToo() throws Exception {
        server = harness.jetty(harness.filter()
                .logStormInterval(Duration.ofHours(1)).build())
                .route("/children", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        for (int i = 0; i < 10; i++) {
                            tasks.go(() -> {
                                throw new IllegalStateException("child failure");
                            });
                        }
                        try {
                            tasks.await();
                        } catch (ChildTaskException expected) {
                            response.setStatus(502);
                        }
                    }
                })
                .start();
        HttpResponse<Void> response = client.send(HttpRequest.newBuilder(server.uri("/children")).build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(harness.count("backstop.panics", "source", "child")).isEqualTo(10);
        assertThat(panicLines()).hasSize(1);
        assertThat(panicLines().get(0).getFormattedMessage()).contains("source=child");
        assertThat(harness.count("backstop.folded.lines", "source", "child")).isEqualTo(9);
    }

    @Test
    void backstopSharesItsIntervalAndRefusesASecondOneOnTheFilter() {
        Backstop backstop = closeAfter(Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(Duration.ZERO).build());
        assertThatThrownBy(() -> RecoveryFilter.builder().backstop(backstop)
                .logStormInterval(Duration.ofSeconds(1)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("logStormInterval");
        assertThatThrownBy(() -> RecoveryFilter.builder().logStormInterval(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
    }

    @Test
    void initParamZeroTurnsFoldingOff() throws Exception {
        server = harness.jetty(new RecoveryFilter());
        FilterHolder holder = server.context().getServletHandler().getFilters()[0];
        holder.setInitParameter(RecoveryFilter.LOG_STORM_INTERVAL_PARAM, "0");
        server.context().setAttribute(RecoveryFilter.DEFAULT_METER_REGISTRY_ATTRIBUTE, harness.registry());
        server.route("/same", (request, response) -> {
            throw new IllegalStateException("same");
        }).start();
        errorIdOf("/same");
        errorIdOf("/same");
        assertThat(panicLines()).hasSize(2);
    }
}
