package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import dev.backstop.testing.InRequest;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Review 12: a filter that joins a Backstop and is configured with {@code uncaught-exception-handler=true} installs a
 * handler of its own ({@code Backstop.installFilterHandler}), "apart from" the Backstop's. When the application also
 * called {@code backstop.installUncaughtExceptionHandler()} (Backstop's class javadoc shows exactly that next to a
 * joining filter; the init-param then comes from web.xml or {@code backstop.uncaught-exception-handler}), both
 * handlers sit in the chain and both report to the same pipeline: every thread that dies is logged twice and counted
 * twice in {@code backstop.panics{source=thread}}. The JVM-wide identity set of 35763ea used to
 * swallow the second report; nothing replaces it here. The contract: every occurrence counted exactly once.
 */
class Review12UncaughtReportedTwiceTest {

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
