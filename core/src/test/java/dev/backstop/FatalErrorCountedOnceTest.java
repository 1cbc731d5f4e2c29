package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A fatal error in a guarded executor's {@code execute} task, or in a thread of a guarded factory, is reported and
 * then rethrown; the dying thread hands it to Backstop's uncaught-exception handler, which knows it as reported: one
 * panic, one error id.
 */
class FatalErrorCountedOnceTest {

    @RegisterExtension
    final Harness harness = new Harness();

    /**
     * A fatal error as Backstop classifies it (a VirtualMachineError other than StackOverflowError), standing in for
     * an OutOfMemoryError, which Surefire's forked JVM treats as its own death.
     */
    private static VirtualMachineError fatal() {
        return new VirtualMachineError("Java heap space (simulated)") {
            private static final long serialVersionUID = 1L;
        };
    }

    private Backstop backstopWithHandler() {
        harness.watchUncaught(); // restores the default handler after the test; Backstop's delegates to it
        Backstop backstop = harness.closeAfter(Backstop.builder().name("fatal")
                .meterRegistry(harness.registry()).build());
        backstop.installUncaughtExceptionHandler();
        return backstop;
    }

    @Test
    void aFatalErrorInAGuardedExecutorIsOnePanic() {
        Backstop backstop = backstopWithHandler();
        ExecutorService executor = harness.shutdownAfter(backstop.guard(Executors.newSingleThreadExecutor()));

        executor.execute(() -> {
            throw fatal();
        });

        // The failure reaches the end of the chain (the test's watch) after every Backstop report.
        await().atMost(Duration.ofSeconds(5)).dontCatchUncaughtExceptions()
                .until(() -> !harness.watchUncaught().isEmpty());
        assertThat(harness.total("backstop.panics")).as("backstop.panics, every source").isEqualTo(1.0);
        assertThat(harness.errors()).hasSize(1);
    }

    @Test
    void aFatalErrorInAGuardedThreadIsOnePanic() throws Exception {
        Backstop backstop = backstopWithHandler();
        ThreadFactory threads = backstop.guard(Executors.defaultThreadFactory());

        Thread thread = threads.newThread(() -> {
            throw fatal();
        });
        thread.start();
        thread.join(); // the uncaught handler runs on the dying thread, before it ends

        // Both reports are source=thread with the same frames, so the second ERROR line is folded by the log-storm
        // limiter (a summary follows); the counter shows it.
        assertThat(harness.total("backstop.panics")).as("backstop.panics, every source").isEqualTo(1.0);
    }
}
