package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import dev.backstop.testing.InRequest;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Backstop has one uncaught-exception handler: the application and a filter that joins it (init-param
 * {@code uncaught-exception-handler}) share it, so a thread that dies is reported once.
 */
class UncaughtHandlerSharedTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @Test
    void aThreadsFailureIsOnePanicWhenTheAppAndItsFilterBothAskForTheHandler() throws Throwable {
        harness.watchUncaught(); // restores the default handler after the test
        Backstop backstop = harness.closeAfter(Backstop.builder().name("app")
                .meterRegistry(harness.registry()).build());
        backstop.installUncaughtExceptionHandler();
        InRequest app = harness.inRequest(RecoveryFilter.builder().backstop(backstop)
                .uncaughtExceptionHandler(true).build());
        app.run(request -> null); // started and initialised

        Thread worker = new Thread(() -> {
            throw new IllegalStateException("worker died");
        }, "worker");
        worker.start();
        worker.join();

        await().atMost(Duration.ofSeconds(5))
                .until(() -> harness.count("backstop.panics", "source", "thread") > 0);
        assertThat(harness.count("backstop.panics", "source", "thread")).isEqualTo(1.0);
        assertThat(harness.errors()).hasSize(1);
    }
}
