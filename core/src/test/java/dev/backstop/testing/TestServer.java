package dev.backstop.testing;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.Servlet;
import java.net.URI;
import java.util.EnumSet;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.FilterMapping;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real embedded Jetty 12 (ee10) server on a free loopback port, with one filter on every dispatch type and
 * servlets given as lambdas.
 */
public final class TestServer implements ServletServer {

    /** A servlet body that may throw anything. */
    @FunctionalInterface
    public interface Handler extends ServletServer.Handler {
    }

    private final Server server;
    private final ServletContextHandler context;
    private final ServerConnector connector;

    /** The filter given as an instance, as programmatic registration does. */
    public TestServer(Filter filter) {
        this(new FilterHolder(filter));
    }

    /**
     * The filter given by class, created by the container with its no-arg constructor and configured from
     * {@code initParams}, as web.xml does; {@code contextAttributes} are set on the ServletContext before it starts,
     * as an application's listener would.
     */
    public TestServer(Class<? extends Filter> filterClass, Map<String, String> initParams,
            Map<String, Object> contextAttributes) {
        this(byClass(filterClass, initParams));
        contextAttributes.forEach(context::setAttribute);
    }

    private TestServer(FilterHolder filter) {
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        // The JDK's default backlog of 50 drops the SYNs of a burst of connections (a suite's 2,000 at once), and
        // the kernel's retries then take longer than a test waits: production servers queue more.
        connector.setAcceptQueueSize(1024);
        server.addConnector(connector);
        context = new ServletContextHandler("/");
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
        server.setHandler(context);
    }

    private static FilterHolder byClass(Class<? extends Filter> filterClass, Map<String, String> initParams) {
        FilterHolder holder = new FilterHolder(filterClass);
        holder.setInitParameters(initParams);
        return holder;
    }

    public ServletContextHandler context() {
        return context;
    }

    @Override
    public TestServer route(String pathSpec, ServletServer.Handler handler) {
        ServletHolder holder = new ServletHolder(ServletServer.servlet(handler));
        holder.setAsyncSupported(true);
        context.addServlet(holder, pathSpec);
        return this;
    }

    @Override
    public TestServer servlet(String pathSpec, Servlet servlet) {
        ServletHolder holder = new ServletHolder(servlet);
        holder.setAsyncSupported(true);
        context.addServlet(holder, pathSpec);
        return this;
    }

    @Override
    public TestServer outerFilter(Filter filter) {
        FilterHolder holder = new FilterHolder(filter);
        holder.setAsyncSupported(true);
        holder.setName("outer-" + System.identityHashCode(filter));
        FilterMapping mapping = new FilterMapping();
        mapping.setFilterName(holder.getName());
        mapping.setPathSpec("/*");
        mapping.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
        context.getServletHandler().prependFilter(holder);
        context.getServletHandler().prependFilterMapping(mapping);
        return this;
    }

    /** The context's error-page handler, installed on first use. */
    private ErrorPageErrorHandler errorPages() {
        if (context.getErrorHandler() instanceof ErrorPageErrorHandler pages) {
            return pages;
        }
        ErrorPageErrorHandler pages = new ErrorPageErrorHandler();
        context.setErrorHandler(pages);
        return pages;
    }

    @Override
    public TestServer errorPage(String location) {
        errorPages().addErrorPage(ErrorPageErrorHandler.GLOBAL_ERROR_PAGE, location);
        return this;
    }

    @Override
    public TestServer errorPage(Class<? extends Throwable> type, String location) {
        errorPages().addErrorPage(type, location);
        return this;
    }

    @Override
    public TestServer errorPage(int status, String location) {
        errorPages().addErrorPage(status, location);
        return this;
    }

    @Override
    public TestServer start() throws Exception {
        server.start();
        return this;
    }

    @Override
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public URI uri(String path) {
        return ServletServer.super.uri(path);
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
