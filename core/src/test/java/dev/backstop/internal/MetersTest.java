package dev.backstop.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
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
        Meters meters = new Meters(registry, 2);

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
        Meters meters = new Meters(registry);

        meters.panic(Source.HANDLER, new RuntimeException() {
            private static final long serialVersionUID = 1L;
        });

        assertThat(registry.find(Meters.PANICS).counter().getId().getTag("exception")).isEqualTo("MetersTest$1");
    }
}
