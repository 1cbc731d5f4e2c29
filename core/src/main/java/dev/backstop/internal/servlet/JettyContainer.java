package dev.backstop.internal.servlet;

import dev.backstop.internal.pipeline.Texts;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.StandardSocketOptions;
import java.nio.channels.NetworkChannel;

/**
 * Jetty 12 (ee10): the response's {@code ServletChannel} knows what is really on the wire; a {@code sendError} is a
 * flag on its state, taken back by clearing it; {@code sendError(-1)} aborts the connection, after a zero linger has
 * made the close a reset. Reached through the response object's class (Jetty's classes are hidden from web
 * applications); the handles are found once per response class.
 */
final class JettyContainer implements Container {

    /** The request attribute Jetty's error handler reads the failure from (not the Servlet API's). */
    private static final String ERROR_EXCEPTION = "org.eclipse.jetty.server.error_exception";

    private volatile Handles handles;

    /** The reflective handles of one {@code ServletApiResponse} class. */
    private static final class Handles {
        final Class<?> responseClass;
        final Method servletChannel;
        final Method isCommitted;
        final Method isSendError;
        final Method isAborted;
        final Method requestState;
        final Method endPoint;
        final Field sendError;
        final Method contextResponse;
        final Method httpOutput;
        final Method outputClosed;
        // The end point's getTransport, for the one end point class seen last.
        private volatile Method transport;

        Handles(Class<?> responseClass) throws ReflectiveOperationException {
            this.responseClass = responseClass;
            this.servletChannel = responseClass.getMethod("getServletChannel");
            Class<?> channel = servletChannel.getReturnType();
            this.isCommitted = channel.getMethod("isCommitted");
            this.isSendError = channel.getMethod("isSendError");
            this.isAborted = channel.getMethod("isAborted");
            this.requestState = channel.getMethod("getServletRequestState");
            this.endPoint = channel.getMethod("getEndPoint");
            Field flag = null;
            try {
                flag = requestState.getReturnType().getDeclaredField("_sendError");
                flag.setAccessible(true);
            } catch (ReflectiveOperationException | RuntimeException closed) {
                // A Jetty that keeps it elsewhere, or does not open it: a pending error stays the container's.
            }
            this.sendError = flag;
            Method output = null;
            Method closed = null;
            Method contextResponse = null;
            try {
                contextResponse = channel.getMethod("getServletContextResponse");
                output = contextResponse.getReturnType().getMethod("getHttpOutput");
                closed = output.getReturnType().getMethod("isClosed");
            } catch (ReflectiveOperationException | RuntimeException other) {
                // A Jetty without them: a write failure is known only once the channel is aborted.
            }
            this.contextResponse = closed == null ? null : contextResponse;
            this.httpOutput = output;
            this.outputClosed = closed;
        }

        /** Whether the response's output is closed: a failed write closes it, while the handler still runs. */
        boolean outputClosed(Object channel) throws ReflectiveOperationException {
            if (contextResponse == null) {
                return false;
            }
            Object output = httpOutput.invoke(contextResponse.invoke(channel));
            return output != null && (boolean) outputClosed.invoke(output);
        }

        Object transport(Object endPoint) throws ReflectiveOperationException {
            Method current = transport;
            if (current == null || !current.getDeclaringClass().isInstance(endPoint)) {
                current = endPoint.getClass().getMethod("getTransport");
                transport = current;
            }
            return current.invoke(endPoint);
        }
    }

    /** A response's channel, with the handles that read it. */
    private static final class Channel {
        final Handles handles;
        final Object channel;

        Channel(Handles handles, Object channel) {
            this.handles = handles;
            this.channel = channel;
        }

        boolean is(Method method) throws ReflectiveOperationException {
            return (boolean) method.invoke(channel);
        }
    }

    /** The channel of {@code response}, or null when it is not a Jetty response Backstop can read. */
    private Channel channel(ServletResponse response) {
        ServletResponse inner = Container.innermost(response);
        try {
            Handles current = handles;
            if (current == null || current.responseClass != inner.getClass()) {
                current = new Handles(inner.getClass());
                handles = current;
            }
            return new Channel(current, current.servletChannel.invoke(inner));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError notJetty) {
            return null;
        }
    }

    @Override
    public boolean onTheWire(HttpServletResponse response) {
        Channel channel = channel(response);
        try {
            return channel == null ? Generic.INSTANCE.onTheWire(response) : channel.is(channel.handles.isCommitted);
        } catch (ReflectiveOperationException | RuntimeException unreadable) {
            return Generic.INSTANCE.onTheWire(response);
        }
    }

    @Override
    public boolean cancelPendingError(HttpServletResponse response) {
        Channel channel = channel(response);
        if (channel == null || channel.handles.sendError == null) {
            return false;
        }
        try {
            if (!channel.is(channel.handles.isSendError) || channel.is(channel.handles.isCommitted)) {
                return false;
            }
            channel.handles.sendError.setBoolean(channel.handles.requestState.invoke(channel.channel), false);
            response.resetBuffer(); // sendError closed the output; this opens it again
            return true;
        } catch (ReflectiveOperationException | RuntimeException refused) {
            return false;
        }
    }

    @Override
    public boolean abort(HttpServletResponse response, Throwable cause, boolean reset) {
        Channel channel = channel(response);
        if (reset && channel != null) {
            try {
                Object endPoint = channel.handles.endPoint.invoke(channel.channel);
                if (endPoint != null && channel.handles.transport(endPoint) instanceof NetworkChannel socket) {
                    socket.setOption(StandardSocketOptions.SO_LINGER, 0);
                }
            } catch (ReflectiveOperationException | RuntimeException | IOException noReset) {
                // Then an orderly close: still no final chunk, no padding.
            }
        }
        try {
            // On Jetty's own response: a wrapper in between (Spring Boot's ErrorPageFilter's, say) would keep the
            // sendError for itself and answer it later, after the body was cut.
            ServletResponse inner = Container.innermost(response);
            (inner instanceof HttpServletResponse http ? http : response).sendError(-1);
            return true;
        } catch (Throwable notAborted) {
            return false;
        }
    }

    @Override
    public void describeError(ServletRequest request, Throwable failure) {
        Container.super.describeError(request, failure);
        request.setAttribute(ERROR_EXCEPTION, failure);
    }

    /**
     * Asks the context's error handler, as Jetty will: an {@code ErrorPageErrorHandler} maps the failure (with
     * {@link #describeError} done) or the status 500 to a page, or to none; any other handler is Jetty's default page,
     * which would show the failure.
     */
    @Override
    public Boolean hasErrorPage(ServletRequest request, Throwable failure) {
        try {
            ServletContext servletContext = request.getServletContext();
            Class<?> handlerClass = servletContext.getClass().getEnclosingClass();
            if (handlerClass == null) {
                return null;
            }
            Object contextHandler = handlerClass.getMethod("getServletContextHandler", ServletContext.class)
                    .invoke(null, servletContext);
            Object errorHandler = contextHandler.getClass().getMethod("getErrorHandler").invoke(contextHandler);
            if (errorHandler == null) {
                return Boolean.FALSE;
            }
            try {
                // Jetty 12.1: the mapper is asked with the status and the failure.
                Method lookup = errorHandler.getClass().getMethod("getErrorPage", Integer.class, Throwable.class);
                return lookup.invoke(errorHandler, HttpServletResponse.SC_INTERNAL_SERVER_ERROR, failure) != null;
            } catch (NoSuchMethodException olderJetty) {
                // Jetty 12.0 reads them from the request.
            }
            Method lookup;
            try {
                lookup = errorHandler.getClass().getMethod("getErrorPage", HttpServletRequest.class);
            } catch (NoSuchMethodException noPages) {
                return Boolean.FALSE; // Jetty's default page, which shows the failure
            }
            String[] names = {RequestDispatcher.ERROR_STATUS_CODE, RequestDispatcher.ERROR_EXCEPTION,
                RequestDispatcher.ERROR_EXCEPTION_TYPE};
            Object[] before = new Object[names.length];
            for (int i = 0; i < names.length; i++) {
                before[i] = request.getAttribute(names[i]);
            }
            request.setAttribute(RequestDispatcher.ERROR_STATUS_CODE, HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
            request.setAttribute(RequestDispatcher.ERROR_EXCEPTION, failure);
            try {
                return lookup.invoke(errorHandler, request) != null;
            } finally {
                for (int i = 0; i < names.length; i++) {
                    request.setAttribute(names[i], before[i]);
                }
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError unknown) {
            return null;
        }
    }

    /**
     * A write to the client that failed raises Jetty's {@code EofException} and closes the response's output while
     * the handler still runs (later, the channel is aborted). An {@code EofException} alone proves nothing: Jetty's
     * HTTP client throws it too, for an upstream that went away; so the output must have failed as well.
     */
    @Override
    public boolean outputFailed(HttpServletResponse response, Throwable failure) {
        Channel channel = channel(response);
        if (channel == null) {
            return false;
        }
        try {
            if (channel.is(channel.handles.isAborted)) {
                return Container.hasIOException(failure);
            }
            return channel.handles.outputClosed(channel.channel) && hasEofException(failure);
        } catch (ReflectiveOperationException | RuntimeException unreadable) {
            return false;
        }
    }

    private static boolean hasEofException(Throwable failure) {
        Throwable current = failure;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            for (Class<?> c = current.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
                if (c.getName().equals("org.eclipse.jetty.io.EofException")) {
                    return true;
                }
            }
            current = Texts.cause(current);
        }
        return false;
    }

    /**
     * Jetty's {@code reset()} puts back the cookie of a session the request created, so that the session survives a
     * reset; the failed handler's half-made session must not reach the client through Backstop's 500.
     */
    @Override
    public void afterReset(HttpServletResponse response) {
        try {
            if (response.containsHeader("Set-Cookie")) {
                response.setHeader("Set-Cookie", null); // Jetty removes a header set to null
            }
        } catch (RuntimeException refused) {
            // Then the session cookie goes out, as it would without Backstop.
        }
    }
}
