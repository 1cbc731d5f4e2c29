package dev.backstop.internal.pipeline;

/**
 * Where a failure was caught, captured as plain strings when the work started: the request object never travels
 * to other threads, because containers recycle it. Immutable.
 */
public final class Capture {

    /** Work of a guarded executor, scheduler or {@code CompletionStage}, outside any request. */
    public static final Capture EXECUTOR = new Capture(Source.EXECUTOR, null, null, null, null, null);
    /** A guarded thread, or the default uncaught-exception handler. */
    public static final Capture THREAD = new Capture(Source.THREAD, null, null, null, null, null);

    private final Source source;
    private final String method;
    private final String path;
    private final String dispatch;
    private final String group;
    private final String task;

    /**
     * @param source the capture point
     * @param method the request method, or null outside a request
     * @param path the request path without query string, or null outside a request
     * @param dispatch the servlet dispatch type when it is not REQUEST, else null
     * @param group the child-task group's name, or null outside a group
     * @param task the task's name, or null outside a task
     */
    public Capture(Source source, String method, String path, String dispatch, String group, String task) {
        this.source = source;
        this.method = method;
        this.path = path;
        this.dispatch = dispatch;
        this.group = group;
        this.task = task;
    }

    public Source source() {
        return source;
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    public String dispatch() {
        return dispatch;
    }

    public String group() {
        return group;
    }

    public String task() {
        return task;
    }
}
