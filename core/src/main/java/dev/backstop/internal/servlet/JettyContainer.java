package dev.backstop.internal.servlet;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
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
    public boolean abort(HttpServletResponse response, Throwable cause) {
        Channel channel = channel(response);
        if (channel != null) {
            try {
                Object endPoint = channel.handles.endPoint.invoke(channel.channel);
                if (endPoint != null && endPoint.getClass().getMethod("getTransport").invoke(endPoint)
                        instanceof NetworkChannel socket) {
                    socket.setOption(StandardSocketOptions.SO_LINGER, 0);
                }
            } catch (ReflectiveOperationException | RuntimeException | IOException noReset) {
                // Then an orderly close: still no final chunk, no padding.
            }
        }
        try {
            response.sendError(-1);
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

    @Override
    public boolean outputFailed(HttpServletResponse response) {
        Channel channel = channel(response);
        try {
            return channel != null && channel.is(channel.handles.isAborted);
        } catch (ReflectiveOperationException | RuntimeException unreadable) {
            return false;
        }
    }
}
