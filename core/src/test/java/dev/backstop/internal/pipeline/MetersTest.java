package dev.backstop.internal.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.UncheckedIOException;
import java.util.ConcurrentModificationException;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MetersTest {

    @Test
    void exceptionTagIsBoundedAndOverflowBecomesOther() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Meters meters = new Meters(registry, "test", 2);

        meters.panic(Source.HANDLER, new IllegalStateException());
        meters.panic(Source.HANDLER, new IllegalArgumentException());
        meters.panic(Source.HANDLER, new ConcurrentModificationException());
        meters.panic(Source.HANDLER, new UncheckedIOException("x", new java.io.IOException()));
        meters.panic(Source.HANDLER, new IllegalStateException());

        Map<String, Double> byException = registry.find(Meters.PANICS).counters().stream()
                .collect(Collectors.toMap(c -> c.getId().getTag("exception"), Counter::count));
        assertThat(byException).containsOnly(
                Map.entry("IllegalStateException", 2.0),
                Map.entry("IllegalArgumentException", 1.0),
                Map.entry("other", 2.0));
    }

    @Test
    void anonymousExceptionClassesGetANonEmptyTag() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Meters meters = new Meters(registry, "test");

        meters.panic(Source.HANDLER, new RuntimeException() {
            private static final long serialVersionUID = 1L;
        });

        assertThat(registry.find(Meters.PANICS).counter().getId().getTag("exception")).isEqualTo("MetersTest$1");
    }

    @Test
    void exceptionTagCapIsPerSourceSoOneSourcesBurstDoesNotTurnAnothersPanicsIntoOther() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Meters meters = new Meters(registry, "test", 1);

        meters.panic(Source.CHILD, new IllegalArgumentException());
        meters.panic(Source.CHILD, new IllegalStateException());
        meters.panic(Source.HANDLER, new IllegalStateException());

        assertThat(registry.find(Meters.PANICS).tags("source", "child", "exception", "other").counter()).isNotNull();
        assertThat(registry.find(Meters.PANICS).tags("source", "handler", "exception", "IllegalStateException")
                .counter().count()).isEqualTo(1.0);
    }

    @Test
    void twoBackstopsInOneRegistryEachHaveTheirOwnActiveGaugeAndCloseRemovesOnlyTheirOwn() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Meters a = new Meters(registry, "/a");
        Meters b = new Meters(registry, "/b");
        assertThat(a.registerGauges()).isEqualTo("/a");
        assertThat(b.registerGauges()).isEqualTo("/b");

        b.active(TaskKind.SCOPED).incrementAndGet();

        assertThat(gauge(registry, "/a", "scoped").value()).isEqualTo(0.0);
        assertThat(gauge(registry, "/b", "scoped").value()).isEqualTo(1.0);

        a.close();
        assertThat(registry.find(Meters.TASKS_ACTIVE).tag(Meters.TAG_BACKSTOP, "/a").gauges()).isEmpty();
        assertThat(gauge(registry, "/b", "scoped").value()).isEqualTo(1.0);
    }

    @Test
    void aSecondBackstopOfTheSameNameInOneRegistryTakesTheNextFreeTagAndKeepsItsOwnCount() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Meters first = new Meters(registry, "/same");
        Meters second = new Meters(registry, "/same");
        assertThat(first.registerGauges()).isEqualTo("/same");
        assertThat(second.registerGauges()).isEqualTo("/same#2");

        second.active(TaskKind.SCOPED).incrementAndGet();
        first.close();

        assertThat(gauge(registry, "/same#2", "scoped").value()).isEqualTo(1.0);
        assertThat(registry.find(Meters.TASKS_ACTIVE).tag(Meters.TAG_BACKSTOP, "/same").gauges()).isEmpty();
    }

    private static Gauge gauge(SimpleMeterRegistry registry, String backstop, String kind) {
        return registry.find(Meters.TASKS_ACTIVE).tags(Meters.TAG_BACKSTOP, backstop, "kind", kind).gauge();
    }
}
