package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Harness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Review 12: {@code UncaughtHandler.uninstall} leaves its handler in the chain, inert, when another library's handler
 * sits above it, "until that library's handler goes". But a well-behaved library goes by restoring the handler it
 * found, which is the inert Backstop handler: from then on it is the JVM's default handler for good. No later
 * install or uninstall, of any version, takes it out (a new version installs ON TOP of it and, when it goes, puts it
 * back). In a servlet container this pins the class loader of the undeployed application that installed it
 * (UncaughtHandler is loaded by the web application), on every redeploy after the first.
 */
class Review12UncaughtHandlerChainTest {

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
