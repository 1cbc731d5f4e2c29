package dev.backstop.internal.servlet;

import dev.backstop.internal.pipeline.Texts;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * What differs between servlet containers, behind one interface: what is really on the wire (the Servlet API calls a
 * response committed after {@code sendError}, though nothing was sent), how a pending error is taken back, how a
 * connection is aborted, whether the container's own output failed, and whether the application has an error page.
 * Chosen per response from the class of the container's own response object (not from the server info, which an
 * operator may rename); the implementations reach the container through that object's class, never by loading a
 * class by name (Jetty hides its classes from web applications), and with no compile dependency. Every method is
 * safe: when the container does not answer as expected, the generic Servlet API behaviour applies.
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
     * Ends the connection at once: nothing more is written, and the client sees an error, not a clean end.
     *
     * @param reset whether the close must be a TCP reset, for a body delimited by the connection's close (HTTP/1.0),
     *     which an orderly close would end as if complete. Only then: a reset also throws away what the kernel has
     *     not sent yet, an earlier pipelined response included
     * @return false when this container cannot, and only rethrowing the failure to it can
     */
    boolean abort(HttpServletResponse response, Throwable cause, boolean reset);

    /**
     * @return whether {@code failure} is the container's own failure to write this response to the client (the
     *     client went away), not an {@code IOException} of the application's (an upstream's)
     */
    boolean outputFailed(HttpServletResponse response, Throwable failure);

    /**
     * Called after Backstop reset a response it takes over: puts right what the container's {@code reset()} puts
     * back on its own (Jetty restores the cookie of a session the failed handler created).
     */
    default void afterReset(HttpServletResponse response) {
    }

    /**
     * @return whether the application has an error page that answers {@code failure} (for its type, for 500, or a
     *     default one), or null when the container cannot say
     */
    default Boolean hasErrorPage(ServletRequest request, Throwable failure) {
        return null;
    }

    /**
     * Puts {@code failure} where the container's error-page lookup finds it, before a {@code sendError(500)} lets the
     * container's error page for its type, or for the status, answer: the Servlet API's
     * {@code jakarta.servlet.error.exception} attributes, and whatever else the container reads.
     */
    default void describeError(ServletRequest request, Throwable failure) {
        request.setAttribute(RequestDispatcher.ERROR_EXCEPTION, failure);
        request.setAttribute(RequestDispatcher.ERROR_EXCEPTION_TYPE, failure.getClass());
    }

    /** The containers Backstop knows, each picked for the responses that are its own. */
    static Container detecting() {
        return new Detecting();
    }

    /** The container's own response under any wrappers. */
    static ServletResponse innermost(ServletResponse response) {
        ServletResponse current = response;
        for (int depth = 0; depth < 64 && current instanceof ServletResponseWrapper wrapper; depth++) {
            current = wrapper.getResponse();
        }
        return current;
    }

    /** Whether {@code failure}'s cause chain (bounded) holds an {@code IOException}. */
    static boolean hasIOException(Throwable failure) {
        Throwable current = failure;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            if (current instanceof IOException) {
                return true;
            }
            current = Texts.cause(current);
        }
        return false;
    }

    /** The container's own request under any wrappers. */
    static ServletRequest innermost(ServletRequest request) {
        ServletRequest current = request;
        for (int depth = 0; depth < 64 && current instanceof ServletRequestWrapper wrapper; depth++) {
            current = wrapper.getRequest();
        }
        return current;
    }

    /**
     * Picks, for each response, the container whose response object it is, by the package of its class: a test of
     * a name, with nothing loaded. One per filter; the implementations cache their handles per response class.
     */
    final class Detecting implements Container {
        private final JettyContainer jetty = new JettyContainer();
        private final TomcatContainer tomcat = new TomcatContainer();

        private Container ownerOf(Object containerObject) {
            String name = containerObject.getClass().getName();
            if (name.startsWith("org.eclipse.jetty.")) {
                return jetty;
            }
            if (name.startsWith("org.apache.catalina.")) {
                return tomcat;
            }
            return Generic.INSTANCE;
        }

        private Container of(ServletResponse response) {
            return ownerOf(innermost(response));
        }

        @Override
        public boolean onTheWire(HttpServletResponse response) {
            return of(response).onTheWire(response);
        }

        @Override
        public boolean cancelPendingError(HttpServletResponse response) {
            return of(response).cancelPendingError(response);
        }

        @Override
        public boolean abort(HttpServletResponse response, Throwable cause, boolean reset) {
            return of(response).abort(response, cause, reset);
        }

        @Override
        public boolean outputFailed(HttpServletResponse response, Throwable failure) {
            return of(response).outputFailed(response, failure);
        }

        @Override
        public void afterReset(HttpServletResponse response) {
            of(response).afterReset(response);
        }

        @Override
        public void describeError(ServletRequest request, Throwable failure) {
            ownerOf(innermost(request)).describeError(request, failure);
        }

        @Override
        public Boolean hasErrorPage(ServletRequest request, Throwable failure) {
            return ownerOf(innermost(request)).hasErrorPage(request, failure);
        }
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
        public boolean abort(HttpServletResponse response, Throwable cause, boolean reset) {
            return false;
        }

        @Override
        public boolean outputFailed(HttpServletResponse response, Throwable failure) {
            return false;
        }
    }
}
