package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A wrong guess about the meter registry is silent (the counters go somewhere nobody scrapes), so a Backstop says at
 * INFO, once when it is built (a filter's own: at {@code init()}), which registry it reports to and where that came
 * from; and at WARN when it is {@code Metrics.globalRegistry} with nothing attached.
 */
class RegistryLineTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private List<ILoggingEvent> lines(Level level, String start) {
        return harness.logs().everything().stream().filter(event -> event.getLevel() == level
                && event.getFormattedMessage().startsWith(start)).toList();
    }

    @Test
    void aFilterWithARegistryFromTheBuilderNamesIt() throws Exception {
        harness.jetty().route("/ok", (request, response) -> { }).start();

        assertThat(lines(Level.INFO, "backstop '/' reports to ")).singleElement().satisfies(event ->
                assertThat(event.getFormattedMessage()).contains(SimpleMeterRegistry.class.getName() + "@")
                        .endsWith("(RecoveryFilter.Builder.meterRegistry)"));
        assertThat(harness.at(Level.WARN)).isEmpty();
    }

    @Test
    void aFilterFromWebXmlNamesTheAttributeItsRegistryCameFrom() throws Exception {
        harness.server(Container.TOMCAT, Map.of()).route("/ok", (request, response) -> { }).start();

        assertThat(lines(Level.INFO, "backstop '/' reports to ")).singleElement().satisfies(event ->
                assertThat(event.getFormattedMessage()).endsWith("(the ServletContext attribute '"
                        + Container.REGISTRY_ATTRIBUTE + "' named by init-param meter-registry-attribute)"));
    }

    @Test
    void theGlobalRegistryWithNothingAttachedIsAWarning() throws Exception {
        assertThat(Metrics.globalRegistry.getRegistries()).as("no test attaches a registry to the global one").isEmpty();

        harness.jetty(RecoveryFilter.builder().build()).route("/ok", (request, response) -> { }).start();

        assertThat(lines(Level.WARN, "backstop '/' reports to Metrics.globalRegistry, which has no registry "
                + "attached")).hasSize(1);
        assertThat(lines(Level.INFO, "backstop '/' reports to ")).isEmpty();
    }

    @Test
    void aBackstopBuiltByTheApplicationNamesItsRegistryOnce() {
        try (Backstop backstop = Backstop.builder().name("orders").meterRegistry(harness.registry()).build()) {
            assertThat(backstop.name()).isEqualTo("orders");
        }

        assertThat(lines(Level.INFO, "backstop 'orders' reports to ")).singleElement().satisfies(event ->
                assertThat(event.getFormattedMessage()).endsWith("(Backstop.Builder.meterRegistry)"));
    }
}
