package dev.backstop.internal.servlet;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Locale;

/**
 * What differs between servlet containers, behind one interface: what is really on the wire (the Servlet API calls a
 * response committed after {@code sendError}, though nothing was sent), how a pending error is taken back, how a
 * connection is aborted, and whether the container's own output failed. Found at run time from the context's server
 * info; the implementations reach the container through the response object's own class, never by class name (Jetty
 * hides its classes from web applications), and with no compile dependency. Every method is safe: when the container
 * does not answer as expected, the generic Servlet API behaviour applies.
 */
interface Container {

    /** @return whether any of the response (its status line) has gone to the client */
    boolean onTheWire(HttpServletResponse response);

    /**
     * Takes back a {@code sendError} the handler called, which the container would answer after the dispatch, while
     * nothing is on the wire, so that the response can be reset and answered.
     *
     * @return whether one was pending, and no longer is
     */
    boolean cancelPendingError(HttpServletResponse response);

    /**
     * Ends the connection at once: nothing more is written, and the client sees an error, not a clean end (a TCP
     * reset where the container allows it, so that even a body delimited by the connection's close is seen as cut).
     *
     * @return false when this container cannot, and only rethrowing the failure to it can
     */
    boolean abort(HttpServletResponse response, Throwable cause);

    /** @return whether writing this response to the client failed: the client went away */
    boolean outputFailed(HttpServletResponse response);

    /**
     * Puts {@code failure} where the container's error-page lookup finds it, before a {@code sendError(500)} lets the
     * container's error page for its type, or for the status, answer: the Servlet API's
     * {@code jakarta.servlet.error.exception} attributes, and whatever else the container reads.
     */
    default void describeError(ServletRequest request, Throwable failure) {
        request.setAttribute(RequestDispatcher.ERROR_EXCEPTION, failure);
        request.setAttribute(RequestDispatcher.ERROR_EXCEPTION_TYPE, failure.getClass());
    }

    /** The container serving {@code context}; the generic Servlet API behaviour when it cannot tell. */
    static Container of(ServletContext context) {
        String serverInfo;
        try {
            serverInfo = context == null ? null : context.getServerInfo();
        } catch (RuntimeException unavailable) {
            serverInfo = null;
        }
        String server = serverInfo == null ? "" : serverInfo.toLowerCase(Locale.ROOT);
        if (server.startsWith("jetty")) {
            return new JettyContainer();
        }
        if (server.startsWith("apache tomcat")) {
            return new TomcatContainer();
        }
        return Generic.INSTANCE;
    }

    /** The container's own response under any wrappers. */
    static ServletResponse innermost(ServletResponse response) {
        ServletResponse current = response;
        for (int depth = 0; depth < 64 && current instanceof ServletResponseWrapper wrapper; depth++) {
            current = wrapper.getResponse();
        }
        return current;
    }

    /** A container Backstop knows nothing special of: the Servlet API's word, and a rethrow to abort. */
    final class Generic implements Container {
        static final Generic INSTANCE = new Generic();

        @Override
        public boolean onTheWire(HttpServletResponse response) {
            try {
                return response.isCommitted();
            } catch (RuntimeException broken) {
                return true;
            }
        }

        @Override
        public boolean cancelPendingError(HttpServletResponse response) {
            return false;
        }

        @Override
        public boolean abort(HttpServletResponse response, Throwable cause) {
            return false;
        }

        @Override
        public boolean outputFailed(HttpServletResponse response) {
            return false;
        }
    }
}
