package dev.backstop.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a functional test of Backstop needs, set up before each test and torn down after it: a fresh meter registry,
 * the events of the {@code dev.backstop} logger, and real servers (Jetty 12 or Tomcat 11) that are closed when the
 * test ends, whatever it did.
 * <pre>{@code
 * @RegisterExtension
 * final Harness harness = new Harness();
 *
 * @Test
 * void panicIsAnsweredWith500() throws Exception {
 *     ServletServer server = harness.jetty().route("/panic", (request, response) -> {
 *         throw new IllegalStateException("boom");
 *     }).start();
 *     ...
 *     assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
 *     assertThat(harness.logs().errors()).hasSize(1);
 * }
 * }</pre>
 * Register it as an instance field ({@code @RegisterExtension}), so each test gets its own registry and logs.
 */
public final class Harness implements BeforeEachCallback, AfterEachCallback {

    /** The logger every Backstop line goes to. */
    public static final String LOGGER = "dev.backstop";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private CapturedLogs logs;

    @Override
    public void beforeEach(ExtensionContext context) {
        logs = CapturedLogs.of(LOGGER);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Exception failure = null;
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (logs != null) {
            logs.close();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The registry of this test; every filter the harness builds reports here. */
    public SimpleMeterRegistry registry() {
        return registry;
    }

    /** The events the {@code dev.backstop} logger wrote during this test. */
    public CapturedLogs logs() {
        return logs;
    }

    /** The ERROR events of this test. */
    public List<ILoggingEvent> errors() {
        return logs.errors();
    }

    /** The events of this test at {@code level}. */
    public List<ILoggingEvent> at(Level level) {
        return logs.at(level);
    }

    /** A filter builder that reports to this test's registry. */
    public RecoveryFilter.Builder filter() {
        return RecoveryFilter.builder().meterRegistry(registry);
    }

    /** A Jetty server, not started, with a filter that reports to this test's registry; closed after the test. */
    public TestServer jetty() {
        return jetty(filter().build());
    }

    /** A Jetty server, not started, with {@code filter}; closed after the test. */
    public TestServer jetty(RecoveryFilter filter) {
        return closeAfter(new TestServer(filter));
    }

    /** A server of {@code container}, not started, with {@code filter}; closed after the test. */
    public ServletServer server(Container container, RecoveryFilter filter) {
        return closeAfter(container.server(filter));
    }

    /**
     * A server of {@code container}, not started, whose filter is registered the given way and reports to this test's
     * registry; closed after the test.
     */
    public ServletServer server(Container container, Container.Registration registration) {
        return closeAfter(container.server(registration, registry));
    }

    /** Runs test code inside requests on a Jetty guarded by {@code filter}; closed after the test. */
    public InRequest inRequest(RecoveryFilter filter) throws Exception {
        return closeAfter(new InRequest(filter));
    }

    /** Runs test code inside requests on a Jetty whose filter reports to this test's registry. */
    public InRequest inRequest() throws Exception {
        return inRequest(filter().build());
    }

    /** Closes {@code resource} after the test, before the logs are detached; the last one given is closed first. */
    public <T extends AutoCloseable> T closeAfter(T resource) {
        resources.push(resource);
        return resource;
    }

    /** The sum over every series of counter {@code name} that has {@code tags}, as PromQL's {@code sum}; 0 if none. */
    public double count(String name, String... tags) {
        return Meters.count(registry, name, tags);
    }

    /** The sum over every series of counter {@code name}. */
    public double total(String name) {
        return Meters.total(registry, name);
    }
}
