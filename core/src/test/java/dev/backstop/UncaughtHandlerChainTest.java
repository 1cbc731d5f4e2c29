package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Harness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Backstop's uncaught-exception handler, uninstalled while another library's handler sat above it, stays in the chain
 * only until the next install or uninstall of any Backstop (or the next failure reaching it) takes it out: a library
 * that restores the handler it found cannot make an undeployed application's handler the JVM's default for good.
 */
class UncaughtHandlerChainTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @Test
    void anInertHandlerLeavesTheChainOnceTheLibraryAboveItRestoresIt() {
        Thread.UncaughtExceptionHandler original = Thread.getDefaultUncaughtExceptionHandler();
        harness.closeAfter(() -> Thread.setDefaultUncaughtExceptionHandler(original));

        // Version 1 of the application installs its handler.
        Backstop version1 = Backstop.builder().name("v1").meterRegistry(harness.registry()).build();
        version1.installUncaughtExceptionHandler();
        Thread.UncaughtExceptionHandler backstops = Thread.getDefaultUncaughtExceptionHandler();

        // An error reporter (Sentry, Bugsnag, an APM agent) installs its own on top and delegates.
        Thread.UncaughtExceptionHandler reporter = (thread, failure) -> backstops.uncaughtException(thread, failure);
        Thread.setDefaultUncaughtExceptionHandler(reporter);

        // Version 1 is undeployed: its handler cannot unlink from under the reporter and stays, inert.
        version1.close();
        // The reporter is closed, and restores what it found, as such libraries do.
        Thread.setDefaultUncaughtExceptionHandler(backstops);

        // Version 2 comes and goes.
        Backstop version2 = Backstop.builder().name("v2").meterRegistry(harness.registry()).build();
        version2.installUncaughtExceptionHandler();
        version2.close();

        assertThat(Thread.getDefaultUncaughtExceptionHandler())
                .as("the default handler once every Backstop and the reporter are gone")
                .isSameAs(original);
    }
}
