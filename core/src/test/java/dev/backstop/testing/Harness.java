package dev.backstop.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
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
 * <p>After each test, everything handed to {@link #closeAfter} is closed, the last one first (servers, executors,
 * extra log captures, the watch on the default uncaught-exception handler), and only then is the log detached; a
 * failure to close one does not keep the others open.
 */
public final class Harness implements BeforeEachCallback, AfterEachCallback {

    /** The logger every Backstop line goes to. */
    public static final String LOGGER = "dev.backstop";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private CapturedLogs logs;
    private Queue<Throwable> uncaught;

    @Override
    public void beforeEach(ExtensionContext context) {
        logs = CapturedLogs.of(LOGGER);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Throwable failure = null;
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Throwable e) { // an AssertionError of expectNoUncaught() too: the rest is still closed
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (logs != null) {
            logs.close();
            // Every line the test made Backstop write matches its row of docs/log-catalogue.md.
            for (ILoggingEvent event : logs.everything()) {
                String wrong = LogCatalogue.check(event);
                if (wrong != null && failure == null) {
                    failure = new AssertionError("a line that is not in the log catalogue: " + wrong);
                }
            }
        }
        if (failure instanceof Exception e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new Exception("closing after the test failed", failure);
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

    /**
     * A server of {@code container}, not started, with RecoveryFilter registered by class as web.xml does and
     * configured from {@code initParams}, its meter registry (this test's) found through
     * {@code meter-registry-attribute}; closed after the test.
     */
    public ServletServer server(Container container, Map<String, String> initParams) {
        return closeAfter(container.server(registry, initParams));
    }

    /**
     * A plain Jetty serving {@code handler} alone on a free loopback port, started; stopped after the test, also when
     * it failed to start. For what {@link TestServer} does not express: a web app deployed from its web.xml, a
     * context built by hand, a server without Backstop. {@link #port(Server)} is its port.
     */
    public Server plainJetty(Handler handler) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        // The JDK's default backlog of 50 drops the SYNs of a burst of connections (a suite's 2,000 at once), and
        // the kernel's retries then take longer than a test waits: production servers queue more.
        connector.setAcceptQueueSize(1024);
        server.addConnector(connector);
        server.setHandler(handler);
        closeAfter(server::stop);
        server.start();
        return server;
    }

    /** The port of a server from {@link #plainJetty(Handler)}. */
    public static int port(Server server) {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    /** Runs test code inside requests on a Jetty guarded by {@code filter}; closed after the test. */
    public InRequest inRequest(RecoveryFilter filter) throws Exception {
        return closeAfter(new InRequest(filter));
    }

    /** Runs test code inside requests on a Jetty whose filter reports to this test's registry. */
    public InRequest inRequest() throws Exception {
        return inRequest(filter().build());
    }

    /** {@code executor}, shut down ({@code shutdownNow}) after the test. */
    public <E extends ExecutorService> E shutdownAfter(E executor) {
        closeAfter(executor::shutdownNow);
        return executor;
    }

    /**
     * The events of another logger (and its children) from now until the test ends: the root logger's, say, to see
     * every line the JVM logs. {@link #logs()} already has Backstop's.
     */
    public CapturedLogs capture(String loggerName) {
        return closeAfter(CapturedLogs.of(loggerName));
    }

    /**
     * Replaces the default uncaught-exception handler, for the rest of this test, with one that records every
     * failure that reaches it, and returns those failures; the handler from before is restored after the test, once
     * the servers given later are closed. Call it before starting servers (in a {@code @BeforeEach}, say) so that it
     * also sees what happens while they stop. A second call returns the same queue.
     */
    public Queue<Throwable> watchUncaught() {
        if (uncaught == null) {
            Queue<Throwable> seen = new ConcurrentLinkedQueue<>();
            Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
            Thread.setDefaultUncaughtExceptionHandler((thread, failure) -> seen.add(failure));
            closeAfter(() -> Thread.setDefaultUncaughtExceptionHandler(previous));
            uncaught = seen;
        }
        return uncaught;
    }

    /**
     * {@link #watchUncaught()}, and fails the test if anything reached the default uncaught-exception handler by the
     * time the servers given later are closed.
     */
    public void expectNoUncaught() {
        Queue<Throwable> seen = watchUncaught();
        closeAfter(() -> assertThat(seen).as("nothing reached an uncaught-exception handler").isEmpty());
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

    /** The value of the gauge {@code name} that has {@code tags}; throws if the registry has none. */
    public double gauge(String name, String... tags) {
        return registry.get(name).tags(tags).gauge().value();
    }
}
