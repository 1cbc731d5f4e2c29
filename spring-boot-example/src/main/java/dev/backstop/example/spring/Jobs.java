package dev.backstop.example.spring;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/** Work that no request waits for, on Boot's own task executor and scheduler. */
@Component
public class Jobs {

    private final AtomicInteger refreshes = new AtomicInteger();

    /** A void @Async method: Spring hands its exception to the AsyncUncaughtExceptionHandler the starter reports to. */
    @Async
    public void recalculate() {
        throw new IllegalStateException("the example @Async method failed on purpose");
    }

    /** A cache refresh that fails on its first run, half a second after start, and stays on schedule. */
    @Scheduled(initialDelay = 500, fixedDelay = 60_000)
    public void refreshCache() {
        if (refreshes.incrementAndGet() == 1) {
            throw new UncheckedIOException(new IOException("the example cache refresh failed on its first run"));
        }
    }
}
