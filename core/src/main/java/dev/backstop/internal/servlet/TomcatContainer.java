package dev.backstop.internal.servlet;

import dev.backstop.internal.pipeline.Texts;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.StandardSocketOptions;
import java.nio.channels.NetworkChannel;

/**
 * Tomcat 11: the catalina {@code Response} behind the {@code ResponseFacade} knows what is really on the wire; a
 * {@code sendError} suspends it and marks it in error, which is taken back by clearing both; the coyote response's
 * {@code CLOSE_NOW} action closes the connection at once and swallows whatever is written after, so that neither the
 * final chunk nor an error page (Spring Boot's {@code /error}) goes out, and the failure need not be rethrown to
 * Tomcat, which would log it again. Reached through the facade's class; the handles are found once per facade class.
 */
final class TomcatContainer implements Container {

    private volatile Handles handles;

    /** The reflective handles of one {@code ResponseFacade} class and the classes behind it. */
    private static final class Handles {
        final Class<?> facadeClass;
        final Field response;
        final Method isCommitted;
        final Method isError;
        final Method setSuspended;
        final Method resetError;
        final Method setAppCommitted;
        final Method coyoteResponse;
        final Method action;
        final Object closeNow;
        final Method isExceptionPresent;
        final Method errorException;
        final Method isSuspended;

        Handles(Class<?> facadeClass) throws ReflectiveOperationException {
            this.facadeClass = facadeClass;
            this.response = field(facadeClass, "response");
            Class<?> catalina = response.getType();
            this.isCommitted = catalina.getMethod("isCommitted");
            this.isError = catalina.getMethod("isError");
            this.setSuspended = catalina.getMethod("setSuspended", boolean.class);
            this.resetError = catalina.getMethod("resetError");
            this.setAppCommitted = catalina.getMethod("setAppCommitted", boolean.class);
            this.coyoteResponse = catalina.getMethod("getCoyoteResponse");
            Class<?> coyote = coyoteResponse.getReturnType();
            Method found = null;
            for (Method method : coyote.getMethods()) {
                if (method.getName().equals("action") && method.getParameterCount() == 2) {
                    found = method;
                }
            }
            if (found == null) {
                throw new NoSuchMethodException("action");
            }
            this.action = found;
            this.closeNow = found.getParameterTypes()[0].getField("CLOSE_NOW").get(null);
            this.isExceptionPresent = coyote.getMethod("isExceptionPresent");
            this.errorException = coyote.getMethod("getErrorException");
            this.isSuspended = catalina.getMethod("isSuspended");
        }

        private static Field field(Class<?> type, String name) throws NoSuchFieldException {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                try {
                    Field field = c.getDeclaredField(name);
                    field.setAccessible(true);
                    return field;
                } catch (NoSuchFieldException next) {
                    // Look in the superclass.
                }
            }
            throw new NoSuchFieldException(name);
        }
    }

    /** {@code response}'s catalina response, with the handles that drive it. */
    private static final class Catalina {
        final Handles handles;
        final Object response;

        Catalina(Handles handles, Object response) {
            this.handles = handles;
            this.response = response;
        }

        boolean is(Method method) throws ReflectiveOperationException {
            return (boolean) method.invoke(response);
        }

        Object coyote() throws ReflectiveOperationException {
            return handles.coyoteResponse.invoke(response);
        }
    }

    /** The catalina response of {@code response}, or null when it is not a Tomcat response Backstop can read. */
    private Catalina catalina(ServletResponse response) {
        ServletResponse inner = Container.innermost(response);
        try {
            Handles current = handles;
            if (current == null || current.facadeClass != inner.getClass()) {
                current = new Handles(inner.getClass());
                handles = current;
            }
            Object catalina = current.response.get(inner);
            return catalina == null ? null : new Catalina(current, catalina);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError notTomcat) {
            return null;
        }
    }

    @Override
    public boolean onTheWire(HttpServletResponse response) {
        Catalina catalina = catalina(response);
        try {
            return catalina == null ? Generic.INSTANCE.onTheWire(response) : catalina.is(catalina.handles.isCommitted);
        } catch (ReflectiveOperationException | RuntimeException unreadable) {
            return Generic.INSTANCE.onTheWire(response);
        }
    }

    @Override
    public boolean cancelPendingError(HttpServletResponse response) {
        Catalina catalina = catalina(response);
        if (catalina == null) {
            return false;
        }
        try {
            // An error to send, or a response closed by sendRedirect or a forward: neither is on the wire yet.
            if (!(catalina.is(catalina.handles.isError) || catalina.is(catalina.handles.isSuspended))
                    || catalina.is(catalina.handles.isCommitted)) {
                return false;
            }
            catalina.handles.setSuspended.invoke(catalina.response, false);
            catalina.handles.resetError.invoke(catalina.response);
            catalina.handles.setAppCommitted.invoke(catalina.response, false);
            return true;
        } catch (ReflectiveOperationException | RuntimeException refused) {
            return false;
        }
    }

    @Override
    public boolean abort(HttpServletResponse response, Throwable cause, boolean reset) {
        Catalina catalina = catalina(response);
        if (catalina == null) {
            return false;
        }
        try {
            Object coyote = catalina.coyote();
            // Always a reset on Tomcat, HTTP/1.1 too: after CLOSE_NOW from an async thread, its error handling may
            // still write an error page before the connection closes; a reset keeps the client from reading those
            // bytes as the rest of the body. (Jetty writes nothing after its abort: it resets only when it must.)
            resetOnClose(coyote);
            catalina.handles.action.invoke(coyote, catalina.handles.closeNow, null);
            return true;
        } catch (ReflectiveOperationException | RuntimeException notAborted) {
            return false;
        }
    }

    /**
     * A zero linger on the connection's socket, so that Tomcat's close is a reset: the processor behind the coyote
     * response holds the socket. Best effort: without it the close is orderly.
     */
    private static void resetOnClose(Object coyote) {
        try {
            Object processor = Handles.field(coyote.getClass(), "hook").get(coyote);
            Method wrapperOf = null;
            for (Class<?> c = processor.getClass(); c != null && wrapperOf == null; c = c.getSuperclass()) {
                for (Method method : c.getDeclaredMethods()) {
                    if (method.getName().equals("getSocketWrapper") && method.getParameterCount() == 0) {
                        wrapperOf = method;
                    }
                }
            }
            if (wrapperOf == null) {
                return;
            }
            wrapperOf.setAccessible(true);
            Object wrapper = wrapperOf.invoke(processor);
            Object socket = wrapper.getClass().getMethod("getSocket").invoke(wrapper);
            Object channel = socket.getClass().getMethod("getIOChannel").invoke(socket);
            if (channel instanceof NetworkChannel network) {
                network.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (ReflectiveOperationException | RuntimeException | IOException noReset) {
            // Then an orderly close: still no final chunk, no padding.
        }
    }

    /**
     * Tomcat keeps the exception that failed a write to the client on the coyote response (and throws it wrapped in
     * a {@code ClientAbortException}); it stays there for the rest of the request. The failure is the client's only
     * when that very exception is in its cause chain: an upstream's {@code IOException} thrown after an ignored
     * write failure is not.
     */
    @Override
    public boolean outputFailed(HttpServletResponse response, Throwable failure) {
        Catalina catalina = catalina(response);
        try {
            if (catalina == null) {
                return false;
            }
            Object coyote = catalina.coyote();
            if (!(boolean) catalina.handles.isExceptionPresent.invoke(coyote)) {
                return false;
            }
            Object recorded = catalina.handles.errorException.invoke(coyote);
            Throwable current = failure;
            for (int depth = 0; current != null && recorded != null && depth < Texts.MAX_CAUSES; depth++) {
                if (current == recorded) {
                    return true;
                }
                current = Texts.cause(current); // bounded: a cause chain may loop
            }
            return false;
        } catch (ReflectiveOperationException | RuntimeException unreadable) {
            return false;
        }
    }

    /**
     * As Tomcat's error handling will look: a page for the failure's type (or for the root cause of a
     * {@code ServletException}), then for 500, then the default page.
     */
    @Override
    public Boolean hasErrorPage(ServletRequest request, Throwable failure) {
        try {
            ServletRequest inner = Container.innermost(request);
            Object catalinaRequest = Handles.field(inner.getClass(), "request").get(inner);
            Object context = catalinaRequest.getClass().getMethod("getContext").invoke(catalinaRequest);
            Method byType = context.getClass().getMethod("findErrorPage", Throwable.class);
            Method byCode = context.getClass().getMethod("findErrorPage", int.class);
            Throwable root = failure instanceof ServletException servlet && servlet.getRootCause() != null
                    ? servlet.getRootCause() : failure;
            return byType.invoke(context, failure) != null || byType.invoke(context, root) != null
                    || byCode.invoke(context, HttpServletResponse.SC_INTERNAL_SERVER_ERROR) != null
                    || byCode.invoke(context, 0) != null;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError unknown) {
            return null;
        }
    }
}
