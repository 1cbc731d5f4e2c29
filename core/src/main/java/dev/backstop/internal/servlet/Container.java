package dev.backstop.internal.servlet;

import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Locale;

/**
 * What differs between servlet containers, behind one interface: how a response that must not look complete is
 * ended. Found at run time from the context's server info; no compile dependency on any container.
 */
interface Container {

    /**
     * Ends the connection so that the client sees an error, not a clean end, without writing anything more.
     *
     * @return false when only the container itself can do that, once the failure is rethrown to it
     */
    boolean abort(HttpServletResponse response);

    /** Jetty aborts the connection on {@code sendError(-1)}. */
    Container JETTY = response -> {
        try {
            response.sendError(-1);
            return true;
        } catch (Throwable notAborted) {
            return false;
        }
    };

    /** Tomcat, and any container without a quiet abort: a committed failure is rethrown for it to end. */
    Container RETHROWING = response -> false;

    /** The container serving {@code context}; {@link #RETHROWING} when it cannot tell. */
    static Container of(ServletContext context) {
        String serverInfo;
        try {
            serverInfo = context == null ? null : context.getServerInfo();
        } catch (RuntimeException unavailable) {
            serverInfo = null;
        }
        return serverInfo != null && serverInfo.toLowerCase(Locale.ROOT).startsWith("jetty") ? JETTY : RETHROWING;
    }
}
