package dev.backstop;

/**
 * Thrown by a handler to abort the response on purpose, the Java form of Go's {@code http.ErrAbortHandler}.
 *
 * <p>{@link RecoveryFilter} does not log or count it as a panic: on Jetty and Tomcat it aborts the connection quietly
 * (the client sees the connection end without a complete response); on containers Backstop does not know it is
 * rethrown to the container. It is counted in {@code backstop.responses{outcome=aborted, reason=abort_request}}.
 *
 * <p>It carries no stack trace, so throwing it is cheap. Instances are immutable and thread-safe.
 *
 * <pre>{@code
 * if (!stillWanted(request)) {
 *     throw new AbortRequestException();
 * }
 * }</pre>
 */
public class AbortRequestException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Creates an abort with no message. */
    public AbortRequestException() {
        this("request aborted by the handler");
    }

    /**
     * Creates an abort with a message, for debugging only: it is never written to the response.
     *
     * @param message why the request was aborted
     */
    public AbortRequestException(String message) {
        super(message, null, false, false);
    }
}
