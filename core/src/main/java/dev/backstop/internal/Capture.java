package dev.backstop.internal;

/**
 * Where a failure was caught, captured as plain strings when the work started: the request object never travels
 * to other threads, because containers recycle it.
 *
 * @param source the capture point
 * @param method the request method, or null outside a request
 * @param path the request path without query string, or null outside a request
 * @param dispatch the servlet dispatch type when it is not REQUEST, else null
 * @param group the child-task group's name, or null outside a group
 * @param task the task's name, or null outside a task
 */
public record Capture(Source source, String method, String path, String dispatch, String group, String task) {

    /** A capture on a request thread, outside any task. */
    public Capture(Source source, String method, String path, String dispatch) {
        this(source, method, path, dispatch, null, null);
    }
}
