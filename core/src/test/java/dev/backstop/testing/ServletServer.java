package dev.backstop.testing;

import jakarta.servlet.Filter;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URI;

/**
 * A real embedded servlet container on a free loopback port, with one filter mapped to {@code /*} on the REQUEST,
 * ASYNC and ERROR dispatches and servlets given as lambdas. Routes are added before {@link #start()}; filter and
 * servlets are async-supported. {@link Container} makes one for each container the suites run on.
 */
public interface ServletServer extends AutoCloseable {

    /** A servlet body that may throw anything. */
    @FunctionalInterface
    interface Handler {
        void handle(HttpServletRequest request, HttpServletResponse response) throws Throwable;
    }

    /** Maps {@code handler} as a servlet at {@code pathSpec} (servlet mapping syntax: {@code /x}, {@code /x/*}). */
    ServletServer route(String pathSpec, Handler handler);

    /** Maps {@code servlet} (a framework's, say: Jersey's {@code ServletContainer}) at {@code pathSpec}. */
    ServletServer servlet(String pathSpec, Servlet servlet);

    /**
     * Adds {@code filter} in front of RecoveryFilter, on the REQUEST, ASYNC and ERROR dispatches of {@code /*}: an
     * application's own outer filter (one that sets a request id header, say).
     */
    ServletServer outerFilter(Filter filter);

    /** A default error page, as Spring Boot registers one: for every exception and every error status. */
    ServletServer errorPage(String location);

    /** An error page for exceptions of {@code type} (and its subclasses). */
    ServletServer errorPage(Class<? extends Throwable> type, String location);

    /** An error page for the status {@code status}. */
    ServletServer errorPage(int status, String location);

    ServletServer start() throws Exception;

    int port();

    default URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    /** Stops the server; a second call does nothing, so a test may stop it early and the harness again. */
    @Override
    void close() throws Exception;

    /** A servlet that runs {@code handler} for every method and passes on exactly what it threw. */
    static HttpServlet servlet(Handler handler) {
        return new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void service(HttpServletRequest request, HttpServletResponse response) {
                try {
                    handler.handle(request, response);
                } catch (Throwable e) {
                    throw ServletServer.<RuntimeException>sneaky(e);
                }
            }
        };
    }

    /** Throws {@code t} unchecked, so that a servlet passes on exactly what a handler threw. */
    @SuppressWarnings("unchecked")
    static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
