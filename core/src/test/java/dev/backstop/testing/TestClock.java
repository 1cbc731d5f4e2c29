package dev.backstop.testing;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A monotonic clock, in nanoseconds, that stands still until a test moves it: time-based behaviour without waiting
 * for real time.
 */
public final class TestClock implements LongSupplier {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    /** Moves the clock forward by {@code duration}. */
    public void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    @Override
    public long getAsLong() {
        return nanos.get();
    }
}
