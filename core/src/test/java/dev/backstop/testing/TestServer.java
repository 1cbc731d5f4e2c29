package dev.backstop.testing;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URI;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real embedded Jetty 12 (ee10) server on a free loopback port, with one filter on every dispatch type and
 * servlets given as lambdas.
 */
public final class TestServer implements AutoCloseable {

    /** A servlet body that may throw anything. */
    @FunctionalInterface
    public interface Handler {
        void handle(HttpServletRequest request, HttpServletResponse response) throws Throwable;
    }

    private final Server server;
    private final ServletContextHandler context;
    private final ServerConnector connector;

    public TestServer(Filter filter) {
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        context = new ServletContextHandler("/");
        context.addFilter(new FilterHolder(filter), "/*",
                EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
        server.setHandler(context);
    }

    public ServletContextHandler context() {
        return context;
    }

    public TestServer route(String pathSpec, Handler handler) {
        ServletHolder holder = new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void service(HttpServletRequest request, HttpServletResponse response) {
                try {
                    handler.handle(request, response);
                } catch (Throwable e) {
                    throw TestServer.<RuntimeException>sneaky(e);
                }
            }
        });
        holder.setAsyncSupported(true);
        context.addServlet(holder, pathSpec);
        return this;
    }

    public TestServer start() throws Exception {
        server.start();
        return this;
    }

    public int port() {
        return connector.getLocalPort();
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
