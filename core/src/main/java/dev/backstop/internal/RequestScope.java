package dev.backstop.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What child tasks know of their request, captured on the request thread when the first group opens (method,
 * path, the SLF4J MDC), and the request's groups that are still open, so that the filter can close them when the
 * request ends. Stored as a request attribute; tasks hold this, never the request. Thread-safe.
 */
final class RequestScope {

    static final String ATTRIBUTE = "dev.backstop.tasks.scope";

    private final TaskRuntime runtime;
    private final String method;
    private final String path;
    private final Map<String, String> mdc;

    // Guarded by this.
    private final List<TaskGroup> open = new ArrayList<>(2);
    private boolean ended;

    RequestScope(TaskRuntime runtime, String method, String path, Map<String, String> mdc) {
        this.runtime = runtime;
        this.method = method;
        this.path = path;
        this.mdc = mdc;
    }

    TaskRuntime runtime() {
        return runtime;
    }

    String method() {
        return method;
    }

    String path() {
        return path;
    }

    Map<String, String> mdc() {
        return mdc;
    }

    synchronized void add(TaskGroup group) {
        if (ended) {
            throw new IllegalStateException("ChildTasks cannot open a group for a request that has already ended");
        }
        open.add(group);
    }

    synchronized void remove(TaskGroup group) {
        open.remove(group);
    }

    /** Closes every group still open, reporting each as a leak unless it had already been fully waited for. */
    void end() {
        List<TaskGroup> left;
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            if (open.isEmpty()) {
                return;
            }
            left = new ArrayList<>(open);
        }
        for (TaskGroup group : left) {
            group.closeAtRequestEnd();
        }
    }
}
