package dev.backstop.internal;

import dev.backstop.AbortRequestException;
import dev.backstop.ChildTaskException;
import java.io.IOException;
import java.util.Locale;

/**
 * Decides what a throwable is. Walks the cause chain at most {@link Texts#MAX_CAUSES} deep, so cyclic or absurdly
 * deep chains cost a bounded amount, and never calls user code that could throw out of here. Stateless.
 */
public final class Classifier {

    /** Exception classes that containers throw when the client has gone away; matched by name, and by subclass. */
    private static final String[] CLIENT_ABORT_CLASSES = {
        "org.eclipse.jetty.io.EofException",
        "org.apache.catalina.connector.ClientAbortException",
    };

    /** Socket error messages (lower case) that mean the peer closed or reset the connection. */
    private static final String[] CLIENT_ABORT_MESSAGES = {
        "broken pipe",
        "connection reset",
    };

    private Classifier() {
    }

    /**
     * Classifies a throwable caught at a request boundary. Aborts and fatal errors are recognised under plain
     * {@code ServletException} wrappers too, because frameworks (Spring MVC among them) wrap everything a handler
     * throws.
     */
    public static Kind classify(Throwable t) {
        Throwable unwrapped = unwrap(t);
        if (unwrapped instanceof AbortRequestException) {
            return Kind.ABORT_REQUESTED;
        }
        if (unwrapped instanceof VirtualMachineError && !(unwrapped instanceof StackOverflowError)) {
            return Kind.FATAL;
        }
        return isClientAbort(t) ? Kind.CLIENT_ABORT : Kind.PANIC;
    }

    /**
     * True when a container's client-abort exception, or a broken pipe or connection reset, is in the chain. The
     * walk stops at a {@link ChildTaskException}: child tasks never write to the client, so a reset under one came
     * from some other connection.
     */
    public static boolean isClientAbort(Throwable t) {
        Throwable current = t;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            if (current instanceof ChildTaskException) {
                return false;
            }
            if (isClientAbortClass(current.getClass())) {
                return true;
            }
            if (current instanceof IOException && hasClientAbortMessage(current)) {
                return true;
            }
            current = Texts.cause(current);
        }
        return false;
    }

    private static boolean isClientAbortClass(Class<?> type) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            String name = c.getName();
            for (String candidate : CLIENT_ABORT_CLASSES) {
                if (candidate.equals(name)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean hasClientAbortMessage(Throwable t) {
        String message = Texts.message(t);
        if (message == null) {
            return false;
        }
        String lower = message.toLowerCase(Locale.ROOT);
        for (String candidate : CLIENT_ABORT_MESSAGES) {
            if (lower.contains(candidate)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The throwable whose class names a failure on dashboards: the first cause under plain
     * {@code jakarta.servlet.ServletException} wrappers, which containers and frameworks add and which say nothing,
     * and under {@link ChildTaskException}, whose cause is the child failure that matters.
     */
    public static Throwable unwrap(Throwable t) {
        Throwable current = t;
        for (int depth = 0; depth < Texts.MAX_CAUSES; depth++) {
            if (current instanceof ChildTaskException
                    || current.getClass().getName().equals("jakarta.servlet.ServletException")) {
                Throwable cause = Texts.cause(current);
                if (cause != null) {
                    current = cause;
                    continue;
                }
            }
            break;
        }
        return current;
    }
}
