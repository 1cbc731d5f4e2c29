package dev.backstop.jersey.testing;

import dev.backstop.RecoveryFilter;
import dev.backstop.jersey.BackstopFeature;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.server.ServerProperties;
import org.glassfish.jersey.servlet.ServletContainer;

/**
 * A real Jetty 12 (ee10) on a free loopback port: RecoveryFilter on {@code /*} for REQUEST, ASYNC and ERROR, first,
 * and Jersey's {@code ServletContainer} on {@code /api/*}, both async-supported, as an application deploys them.
 *
 * <p>Run the suite with {@code -Dbackstop.jersey.feature=off} to see what each test checks fail without
 * {@link BackstopFeature}: {@link #feature(ResourceConfig)} then registers nothing.
 */
public final class JerseyServer implements AutoCloseable {

    /** Whether tests register {@link BackstopFeature}; on unless {@code -Dbackstop.jersey.feature=off}. */
    public static final boolean FEATURE_ON = !"off".equals(System.getProperty("backstop.jersey.feature"));

    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);
    private final ServletContextHandler context = new ServletContextHandler("/");

    private JerseyServer(MeterRegistry registry, ResourceConfig config) {
        this(config);
        FilterHolder filter = new FilterHolder(RecoveryFilter.builder().meterRegistry(registry).build());
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
    }

    private JerseyServer(ResourceConfig config) {
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        config.property(ServerProperties.WADL_FEATURE_DISABLE, true); // no JAXB here, and no warning about it
        ServletHolder jersey = new ServletHolder(new ServletContainer(config));
        jersey.setAsyncSupported(true);
        context.addServlet(jersey, "/api/*");
        server.setHandler(context);
    }

    /** Registers {@link BackstopFeature} on {@code config} (unless the suite runs without it), and returns it. */
    public static ResourceConfig feature(ResourceConfig config) {
        return FEATURE_ON ? config.register(BackstopFeature.class) : config;
    }

    /** Starts a server for {@code config} whose RecoveryFilter reports to {@code registry}. */
    public static JerseyServer start(MeterRegistry registry, ResourceConfig config) throws Exception {
        return start(new JerseyServer(registry, config));
    }

    /** Starts a server for {@code config} with no RecoveryFilter: a misconfigured application. */
    public static JerseyServer startUnguarded(ResourceConfig config) throws Exception {
        return start(new JerseyServer(config));
    }

    private static JerseyServer start(JerseyServer server) throws Exception {
        try {
            server.server.start();
        } catch (Exception e) {
            server.close();
            throw e;
        }
        return server;
    }

    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping Jetty", e);
        } catch (Exception e) {
            throw new IllegalStateException("stopping Jetty failed", e);
        }
    }
}
