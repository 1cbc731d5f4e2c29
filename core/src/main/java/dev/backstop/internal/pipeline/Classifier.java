package dev.backstop.internal.pipeline;

import dev.backstop.AbortRequestException;
import dev.backstop.ChildTaskException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.util.concurrent.CancellationException;

/**
 * The rules, in one place: what is fatal, checked or unchecked, an interruption, a client abort or a deliberate
 * abort, and which wrapper names nothing. Every capture point asks here. Walks a cause chain at most
 * {@link Texts#MAX_CAUSES} deep, so cyclic or absurdly deep chains cost a bounded amount, and never calls user code
 * that could throw out of here. Stateless.
 */
public final class Classifier {

    private static final String SERVLET_EXCEPTION = "jakarta.servlet.ServletException";

    private Classifier() {
    }

    /**
     * A throwable that escaped a handler: every one is a panic (checked ones included), except a deliberate abort, a
     * client that went away and a fatal error. Aborts and fatal errors are recognised under plain
     * {@code ServletException} wrappers too, because frameworks (Spring MVC among them) wrap everything a handler
     * throws.
     *
     * @param outputFailed whether the container says writing this response failed
     */
    public static Kind atHandler(Throwable t, boolean outputFailed) {
        Throwable unwrapped = unwrap(t);
        if (unwrapped instanceof AbortRequestException) {
            return Kind.ABORT_REQUESTED;
        }
        if (isFatal(unwrapped)) {
            return Kind.FATAL;
        }
        return isClientAbort(t, outputFailed) ? Kind.CLIENT_ABORT : Kind.PANIC;
    }

    /**
     * A throwable that escaped a guarded task, which writes to no client.
     *
     * @param interruptIsCancel whether an interruption here is the task obeying a cancel (always, for executors; for
     *     a child task, only when its group or future asked for it)
     */
    public static Kind inTask(Throwable t, boolean interruptIsCancel) {
        if (interruptIsCancel && isInterruption(t)) {
            return Kind.INTERRUPTED;
        }
        if (isFatal(t)) {
            return Kind.FATAL;
        }
        if (t instanceof AbortRequestException) {
            return Kind.ABORT_REQUESTED;
        }
        return isChecked(t) ? Kind.CHECKED : Kind.PANIC;
    }

    /** A {@link VirtualMachineError} the JVM may not survive; a {@link StackOverflowError} is an ordinary panic. */
    public static boolean isFatal(Throwable t) {
        return t instanceof VirtualMachineError && !(t instanceof StackOverflowError);
    }

    /** Go's {@code error}: an {@code Exception} that is not a {@code RuntimeException}. */
    public static boolean isChecked(Throwable t) {
        return t instanceof Exception && !(t instanceof RuntimeException);
    }

    /** A throwable that is the work's reaction to being interrupted, anywhere in its cause chain. */
    public static boolean isInterruption(Throwable t) {
        Throwable current = t;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            if (current instanceof InterruptedException || current instanceof CancellationException
                    || current instanceof ClosedByInterruptException
                    || (current instanceof InterruptedIOException && !(current instanceof SocketTimeoutException))) {
                return true;
            }
            current = Texts.cause(current);
        }
        return false;
    }

    /**
     * True when the client went away, known only from the container's own signal, never from message text (which
     * carries input: a {@code NoSuchFileException} for {@code broken pipe.csv} is a panic) nor from an exception's
     * class alone (Jetty's HTTP client throws Jetty's {@code EofException} for an upstream that went away): the
     * container says that {@code t} is its failure to write this response, and an {@code IOException} is in the
     * chain. The walk stops at a {@link ChildTaskException}: child tasks never write to the client, so an abort under
     * one came from elsewhere.
     *
     * @param outputFailed whether the container says {@code t} is its failure to write this response
     */
    public static boolean isClientAbort(Throwable t, boolean outputFailed) {
        if (!outputFailed) {
            return false;
        }
        Throwable current = t;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            if (current instanceof ChildTaskException) {
                return false;
            }
            if (current instanceof IOException) {
                return true;
            }
            current = Texts.cause(current);
        }
        return false;
    }

    /** The deepest cause of {@code t}, which names what really happened (a broken pipe under a container's wrapper). */
    public static Throwable innermost(Throwable t) {
        Throwable current = t;
        for (int depth = 0; depth < Texts.MAX_CAUSES; depth++) {
            Throwable cause = Texts.cause(current);
            if (cause == null) {
                break;
            }
            current = cause;
        }
        return current;
    }

    /**
     * The throwable whose class names a failure on dashboards: the first cause under plain
     * {@code jakarta.servlet.ServletException} wrappers, which containers and frameworks add and which say nothing,
     * and under {@link ChildTaskException}, whose cause is the child failure that matters.
     */
    public static Throwable unwrap(Throwable t) {
        Throwable current = t;
        for (int depth = 0; depth < Texts.MAX_CAUSES; depth++) {
            if (current instanceof ChildTaskException || current.getClass().getName().equals(SERVLET_EXCEPTION)) {
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
