package dev.backstop.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The harness's own teardown, driven by hand (it reads nothing from the extension context): what the suites rely on
 * when a test fails halfway or stops a server early.
 */
class HarnessTest {

    @Test
    void closesEverythingLastGivenFirstEvenWhenOneFailsAndThenDetachesTheLog() throws Exception {
        Harness harness = new Harness();
        harness.beforeEach(null);
        List<String> closed = new ArrayList<>();
        harness.closeAfter(() -> closed.add("first"));
        harness.closeAfter(() -> {
            closed.add("second");
            throw new IllegalStateException("second failed to close");
        });
        harness.closeAfter(() -> closed.add("third"));

        assertThatThrownBy(() -> harness.afterEach(null)).hasMessage("second failed to close");

        assertThat(closed).containsExactly("third", "second", "first");
        LoggerFactory.getLogger(HarnessTest.class).debug("logged after the test: not captured");
        assertThat(harness.logs().all()).as("detached").isEmpty();
    }

    @Test
    void watchUncaughtRecordsUntilTheEndAndThenRestoresTheHandlerFromBefore() throws Exception {
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Harness harness = new Harness();
        harness.beforeEach(null);
        Queue<Throwable> uncaught = harness.watchUncaught();
        assertThat(harness.watchUncaught()).isSameAs(uncaught);

        Thread dying = new Thread(() -> {
            throw new IllegalStateException("died");
        });
        dying.start();
        dying.join();
        assertThat(uncaught).singleElement().satisfies(failure -> assertThat(failure).hasMessage("died"));

        harness.afterEach(null);
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(before);
    }

    @Test
    void expectNoUncaughtFailsTheTestAfterTheServersAreClosedAndStillRestoresTheHandler() throws Exception {
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Harness harness = new Harness();
        harness.beforeEach(null);
        harness.expectNoUncaught();
        harness.closeAfter(() -> {
            // A server whose shutdown lets a thread die: seen, because the check runs after the servers are closed.
            Thread dying = new Thread(() -> {
                throw new IllegalStateException("died while stopping");
            });
            dying.start();
            dying.join();
        });

        assertThatThrownBy(() -> harness.afterEach(null)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("nothing reached an uncaught-exception handler")
                .hasMessageContaining("died while stopping");
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(before);
    }
}
