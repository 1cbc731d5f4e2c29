package dev.backstop;

import java.util.Objects;

/**
 * What {@link RecoveryFilter} knows about one panic when it asks an {@link ErrorResponder} to answer it.
 *
 * <p>The {@link #errorId() error id} is the one in the ERROR log event, so a user who quotes it can be matched to
 * the stack trace. {@link #exception()} is the raw throwable: a responder that writes any of it to the client
 * leaks implementation details, which is why Backstop's own responder does not unless
 * {@code expose-stack-traces} is on. Instances are immutable and thread-safe.
 */
public final class Failure {

    private final String errorId;
    private final Throwable exception;
    private final String source;
    private final String method;
    private final String path;

    /**
     * Creates failure details; Backstop creates these, applications normally only read them.
     *
     * @param errorId the error id, as logged
     * @param exception the throwable that escaped the handler
     * @param source where it was caught, such as {@code handler}
     * @param method the request method
     * @param path the request path, without the query string
     */
    public Failure(String errorId, Throwable exception, String source, String method, String path) {
        this.errorId = Objects.requireNonNull(errorId, "errorId cannot be null");
        this.exception = Objects.requireNonNull(exception, "exception cannot be null");
        this.source = Objects.requireNonNull(source, "source cannot be null");
        this.method = Objects.requireNonNull(method, "method cannot be null");
        this.path = Objects.requireNonNull(path, "path cannot be null");
    }

    /**
     * Returns the error id.
     *
     * @return the error id, as logged and as in Backstop's own error responses
     */
    public String errorId() {
        return errorId;
    }

    /**
     * Returns the throwable that escaped the handler.
     *
     * @return the throwable that escaped the handler; never write it to a client unless you mean to
     */
    public Throwable exception() {
        return exception;
    }

    /**
     * Returns where the failure was caught.
     *
     * @return where the failure was caught: {@code handler} for the filter
     */
    public String source() {
        return source;
    }

    /**
     * Returns the HTTP method of the failed request.
     *
     * @return the HTTP method of the failed request
     */
    public String method() {
        return method;
    }

    /**
     * Returns the path of the failed request.
     *
     * @return the request path (no query string) of the failed request
     */
    public String path() {
        return path;
    }

    @Override
    public String toString() {
        return "Failure[errorId=" + errorId + ", source=" + source + ", method=" + method + ", path=" + path + "]";
    }
}
