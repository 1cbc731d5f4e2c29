package dev.backstop.testing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** Reads Backstop counters the way a dashboard would: by name and tags, 0 when the series does not exist. */
public final class Meters {

    private Meters() {
    }

    /** The sum over every series of {@code name} that has {@code tags} (like PromQL's {@code sum}), 0 if none. */
    public static double count(MeterRegistry registry, String name, String... tags) {
        return registry.find(name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
    }

    /** Sum over every series of a counter. */
    public static double total(MeterRegistry registry, String name) {
        return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
    }
}
