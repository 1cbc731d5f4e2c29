package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Harness;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every counter whose tags are known in advance exists at 0 from the moment a Backstop is built, so that a scrape
 * has the series before the first event and {@code increase()} sees the first one (a series that first appears at 1
 * shows no increase). Counters tagged by exception cannot exist in advance.
 */
class CountersFromTheStartTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private List<String> series(String name) {
        return harness.registry().find(name).counters().stream()
                .map(counter -> counter.getId().getTags().toString()).toList();
    }

    @Test
    void theCountersWithKnownTagsAreThereAtZeroBeforeAnyRequest() {
        try (Backstop backstop = Backstop.builder().meterRegistry(harness.registry()).build()) {
            assertThat(backstop.name()).isNotEmpty();

            assertThat(series("backstop.responses")).hasSize(9);
            for (String outcome : List.of("error", "aborted", "container")) {
                for (String reason : List.of("panic", "abort_request", "fatal")) {
                    assertThat(harness.registry().find("backstop.responses").tag("outcome", outcome)
                            .tag("reason", reason).counter()).as("%s/%s", outcome, reason).isNotNull();
                }
            }
            assertThat(harness.registry().find("backstop.leaked.groups").counter()).isNotNull();
            for (String kind : List.of("scoped", "background")) {
                for (String outcome : List.of("success", "failure", "panic", "cancelled", "rejected", "abandoned")) {
                    assertThat(harness.registry().find("backstop.tasks").tag("kind", kind).tag("outcome", outcome)
                            .counter()).as("%s/%s", kind, outcome).isNotNull();
                }
            }
            for (String source : List.of("handler", "child", "background", "executor", "thread")) {
                assertThat(harness.registry().find("backstop.folded.lines").tag("source", source).counter())
                        .as(source).isNotNull();
            }
            for (String stage : List.of("respond", "standard-respond", "log", "mdc")) {
                assertThat(harness.registry().find("backstop.internal.failures").tag("stage", stage).counter())
                        .as(stage).isNotNull();
            }
            assertThat(Stream.of("backstop.responses", "backstop.leaked.groups", "backstop.tasks",
                    "backstop.folded.lines", "backstop.internal.failures")
                    .flatMap(name -> harness.registry().find(name).counters().stream()))
                    .allSatisfy(counter -> assertThat(counter.count()).isZero())
                    .allSatisfy(counter -> assertThat(counter.getId().getDescription()).isNotBlank());
            assertThat(harness.registry().find("backstop.panics").counters()).isEmpty();
        }
    }

    @Test
    void aFilterRegistersThemAtInit() throws Exception {
        harness.jetty().route("/ok", (request, response) -> { }).start();

        Counter leaks = harness.registry().find("backstop.leaked.groups").counter();
        assertThat(leaks).isNotNull();
        assertThat(leaks.count()).isZero();
        assertThat(series("backstop.tasks")).hasSize(12);
    }
}
