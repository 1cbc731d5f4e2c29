package dev.backstop.internal.tasks;

import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Report;
import dev.backstop.internal.pipeline.Texts;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * Everything Backstop keeps for one request, in one request attribute ({@value #ATTRIBUTE}): the filter that guards
 * it (its {@link Binding}: the child-task runtime of its Backstop, and the filter's own object), the request's
 * method and path (captured as strings when first needed: the request object never crosses into a child), the
 * {@code ChildTasks} groups still open, and the report chain: the failures already reported for this request (a
 * child's panic that its handler rethrows; a failure one filter handled that reaches another), so that one failure
 * handed along the chain is reported once, and every other occurrence is a new panic.
 *
 * <p>The outermost filter makes it when the request enters, and ends it when the request is over; its value never
 * changes in between, so a framework that snapshots and restores request attributes (Spring's
 * {@code DispatcherServlet} around an include), or a wrapper that keeps attributes set through it, cannot lose it.
 * Once ended, no group opens on it. Thread-safe.
 */
public final class RequestContext {

    /** The request attribute holding the {@code RequestContext}. */
    public static final String ATTRIBUTE = "dev.backstop.request";

    /**
     * How many failures one request remembers for its chain, the most recent ones: a failure handed along is handed
     * on soon after it was reported, while a request that fails thousands of tasks must not keep them all.
     */
    static final int MAX_REPORTED = 64;

    private static final String ASYNC_REQUEST_URI = "jakarta.servlet.async.request_uri";

    /**
     * What a filter offers the requests it guards: the child-task runtime of its Backstop, and the filter's own
     * object, opaque here, for code that answers the request later ({@code RecoveryFilter.fail}). Immutable.
     */
    public static final class Binding {
        private final TaskRuntime tasks;
        private final Object owner;

        public Binding(TaskRuntime tasks, Object owner) {
            this.tasks = tasks;
            this.owner = owner;
        }

        public Object owner() {
            return owner;
        }
    }

    // The filter nearest the servlet: a nested filter swaps itself in for its chain and back out after it.
    private volatile Binding binding;
    // Filters of this request's current dispatch that entered and have not left: the last to leave is the outermost.
    // Dispatches of one request never overlap, and the container orders them.
    private volatile int depth = 1;
    // The request's MDC, for lines written about it on other threads: captured when a group opens, or when a dispatch
    // leaves the request in async mode.
    private volatile Guard.Context mdc;
    // The request's trace as the outermost filter entered it (the root context when untraced), for lines and spans
    // about the request written on other threads: before the MDC above is captured (a failure handed over while the
    // dispatch that started async mode still runs), and when the MDC was captured on a thread outside the trace.
    private final Guard.Context enteredTrace;

    // Guarded by this.
    private boolean captured;
    private String method;
    private String path;
    private List<TaskGroup> open;
    private Recent<Report> reported;
    private Recent<Throwable> handled;
    private Recent<Throwable> answered;
    private boolean ended;
    private Throwable pendingRethrow;
    private boolean dispatchedOnce;

    private RequestContext(Binding binding) {
        this.binding = binding;
        this.enteredTrace = Guard.captureTrace();
    }

    /**
     * A filter's dispatch enters: the outermost filter makes the request's context; a filter nested in another's
     * chain, or a later dispatch of the same request, finds it and puts itself in front.
     *
     * @return the binding to put back at {@link #leave}; or the context this call made, when with it this filter owns
     *     the request's end (handed back to {@link #leave(ServletRequest, Object)} and {@link #end(ServletRequest,
     *     Object)}, so that the happy path looks the attribute up once)
     */
    public static Object enter(ServletRequest request, Binding binding) {
        if (request.getAttribute(ATTRIBUTE) instanceof RequestContext context && !context.isEnded()) {
            Binding outer = context.binding;
            context.binding = binding;
            context.depth++;
            return outer;
        }
        // A new request; or a dispatch after its request ended (an ERROR dispatch after a sendError), which the
        // container may show the ended context to: a context of its own, which this dispatch ends.
        RequestContext made = new RequestContext(binding);
        request.setAttribute(ATTRIBUTE, made);
        return made;
    }

    private synchronized boolean isEnded() {
        return ended;
    }

    /**
     * A filter's dispatch leaves: the outer binding is put back (when {@link #enter} returned one).
     *
     * @return whether this was the outermost filter of the dispatch, the last to leave it
     */
    public static boolean leave(ServletRequest request, Object entered) {
        if (entered instanceof RequestContext made) {
            made.depth--;
            return true;
        }
        RequestContext context = existing(request);
        if (context == null) {
            return true;
        }
        if (entered instanceof Binding outer) {
            context.binding = outer;
        }
        return --context.depth <= 0;
    }

    /**
     * The request is over: its groups still open are closed (cancelled, and reported as leaks unless waited for),
     * nothing can open one any more, and the attribute is removed.
     */
    public static void end(ServletRequest request) {
        end(request, null);
    }

    /** Like {@link #end(ServletRequest)}, for the context {@link #enter} made (or null: the request's). */
    public static void end(ServletRequest request, Object entered) {
        RequestContext context = entered instanceof RequestContext made ? made : existing(request);
        if (context != null) {
            context.end();
        }
        try {
            request.removeAttribute(ATTRIBUTE);
        } catch (RuntimeException recycled) {
            // The request is over.
        }
    }

    /** @return the context of {@code request}, or null when no filter guards it, or it has ended */
    public static RequestContext existing(ServletRequest request) {
        try {
            return request.getAttribute(ATTRIBUTE) instanceof RequestContext context ? context : null;
        } catch (RuntimeException recycled) {
            return null;
        }
    }

    /** @return the object of the filter nearest the servlet in {@code request}'s chain, or null */
    public static Object owner(ServletRequest request) {
        RequestContext context = existing(request);
        return context == null ? null : context.binding.owner;
    }

    /**
     * Captures the request's method and path, once, for the log lines of its tasks: call it with the request,
     * on a thread that may use it, before the request is needed elsewhere.
     */
    void capture(ServletRequest request) {
        synchronized (this) {
            if (captured) {
                return;
            }
            captured = true;
        }
        HttpServletRequest http = request instanceof HttpServletRequest h ? h : null;
        String capturedMethod = method(http);
        String capturedPath = originalPath(http);
        synchronized (this) {
            method = capturedMethod;
            path = capturedPath;
        }
    }

    TaskRuntime runtime() {
        return binding.tasks;
    }

    /** Keeps {@code context} as the request's MDC for lines written on other threads; the latest group's wins. */
    void rememberContext(Guard.Context context) {
        // A group opened on a thread without the request's MDC (inside AsyncContext.start, say) keeps the one known.
        if (context.mdc() != null && !context.mdc().isEmpty()) {
            mdc = context;
        }
    }

    /**
     * Keeps the current thread's MDC as the request's, when no group has given one yet: called as a dispatch leaves
     * the request in async mode, since whatever ends it will run on another thread.
     */
    public void rememberContextIfNone() {
        if (mdc == null) {
            mdc = Guard.capture();
        }
    }

    /** @return the request's MDC, for lines written about it on other threads ({@link Guard.Context#addMissing()}) */
    public Guard.Context context() {
        Guard.Context context = mdc;
        return context == null ? enteredTrace : context.orTraceOf(enteredTrace);
    }

    /** Starts a detached task on this request's runtime; see {@code ChildTasks.background}. */
    public void background(ServletRequest request, String name, Callable<?> body) {
        synchronized (this) {
            if (ended) {
                throw new IllegalStateException("ChildTasks.background cannot start a task for a request that has "
                        + "already ended");
            }
        }
        capture(request);
        binding.tasks.background(method(), path(), name, body);
    }

    synchronized String method() {
        return method;
    }

    synchronized String path() {
        return path;
    }

    synchronized void add(TaskGroup group) {
        if (ended) {
            throw new IllegalStateException("ChildTasks cannot open a group for a request that has already ended");
        }
        if (open == null) {
            open = new ArrayList<>(2);
        }
        open.add(group);
    }

    synchronized void remove(TaskGroup group) {
        if (open != null) {
            open.remove(group);
        }
    }

    /**
     * Closes every group still open, reporting each as a leak unless it had already been fully waited for: when an
     * async cycle times out or fails, nobody is left to wait for them. The request goes on (the application may
     * still answer it, opening groups of its own).
     */
    public void closeOpenGroups() {
        List<TaskGroup> left;
        synchronized (this) {
            if (open == null || open.isEmpty()) {
                return;
            }
            left = new ArrayList<>(open);
        }
        close(left);
    }

    private static void close(List<TaskGroup> left) {
        // Every group is cancelled before any is waited for, and one clock serves all: each group's tasks get their
        // whole grace period, and the request ends within the longest grace period of its groups, not their sum.
        long start = System.nanoTime();
        List<TaskGroup.Closing> closings = new ArrayList<>(left.size());
        for (TaskGroup group : left) {
            closings.add(group.beginCloseAtRequestEnd());
        }
        for (int i = 0; i < left.size(); i++) {
            left.get(i).finishCloseAtRequestEnd(closings.get(i), start);
        }
    }

    /** The request is over: closes its groups, and no group opens on it any more. Idempotent. */
    void end() {
        List<TaskGroup> left;
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            if (open == null || open.isEmpty()) {
                return; // the usual request: no group left open, one lock in all
            }
            left = new ArrayList<>(open);
        }
        close(left);
    }

    /** Remembers a failure reported for this request, so that the same failure handed along is not reported twice. */
    public synchronized void remember(Report report) {
        if (reported == null) {
            reported = new Recent<>();
        }
        reported.add(report);
    }

    /**
     * @return the report of {@code failure}, or of a throwable in its cause chain, if it was reported for this
     *     request; else null. Compared by identity: a user's {@code equals} is never called.
     */
    public Report earlier(Throwable failure) {
        Recent<Report> chain;
        synchronized (this) {
            chain = reported;
        }
        if (chain == null) {
            return null;
        }
        Throwable current = failure;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            Report found = chain.find(current, Report::failure);
            if (found != null) {
                return found;
            }
            current = Texts.cause(current);
        }
        return null;
    }

    /**
     * Notes that a filter answered (or deliberately rethrew) {@code failure} for this request, so that the same
     * failure reaching a filter again in this request (an outer filter, the container's async error report) is passed
     * on rather than answered twice.
     */
    public synchronized void handled(Throwable failure) {
        if (handled == null) {
            handled = new Recent<>();
        }
        handled.add(failure);
    }

    /** @return whether a filter already answered (or aborted) this request for a failure */
    public synchronized boolean handledAny() {
        return handled != null;
    }

    /**
     * @return whether a filter already handled {@code failure}, or a throwable in its cause chain, for this request:
     *     containers wrap what a filter rethrew before they hand it back (Tomcat reports a failure rethrown from an
     *     ASYNC dispatch to {@code AsyncListener.onError} as {@code ServletException(RuntimeException(failure))})
     */
    public boolean wasHandled(Throwable failure) {
        Recent<Throwable> done;
        synchronized (this) {
            done = handled;
        }
        if (done == null) {
            return false;
        }
        Throwable current = failure;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            if (done.find(current, handledFailure -> handledFailure) != null) {
                return true;
            }
            current = Texts.cause(current);
        }
        return false;
    }

    /**
     * Notes that code of a framework had Backstop answer {@code failure} ({@code RecoveryFilter.answer}), so that the
     * same failure escaping the chain later is not answered, nor passed to the container, again.
     */
    public synchronized void answered(Throwable failure) {
        if (answered == null) {
            answered = new Recent<>();
        }
        answered.add(failure);
    }

    /** @return whether {@link #answered} was called for {@code failure} or a throwable in its cause chain */
    public boolean wasAnswered(Throwable failure) {
        Recent<Throwable> done;
        synchronized (this) {
            done = answered;
        }
        if (done == null) {
            return false;
        }
        Throwable current = failure;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            if (done.find(current, answeredFailure -> answeredFailure) != null) {
                return true;
            }
            current = Texts.cause(current);
        }
        return false;
    }

    /** Keeps a failure that only the container can end, to be rethrown on the next dispatch; once per request. */
    public synchronized boolean rethrowOnNextDispatch(Throwable failure) {
        if (dispatchedOnce) {
            return false;
        }
        dispatchedOnce = true;
        pendingRethrow = failure;
        return true;
    }

    /** Forgets the failure {@link #rethrowOnNextDispatch} kept, when the dispatch could not be started. */
    public synchronized void cancelRethrow() {
        pendingRethrow = null;
    }

    /** @return the failure to rethrow on this dispatch, once, or null */
    public synchronized Throwable takeRethrow() {
        Throwable pending = pendingRethrow;
        pendingRethrow = null;
        return pending;
    }

    /** The request method, or null when the request cannot say. */
    public static String method(HttpServletRequest request) {
        if (request == null) {
            return null;
        }
        try {
            return request.getMethod();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * The path the client asked for, without query and without {@code ;} path parameters (they carry session ids):
     * ERROR and ASYNC dispatches keep the original in an attribute.
     */
    public static String originalPath(HttpServletRequest request) {
        if (request == null) {
            return null;
        }
        try {
            for (String attribute : new String[] {RequestDispatcher.ERROR_REQUEST_URI, ASYNC_REQUEST_URI}) {
                Object original = request.getAttribute(attribute);
                if (original instanceof String path) {
                    return withoutPathParameters(path);
                }
            }
            return withoutPathParameters(request.getRequestURI());
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The dispatch type's name when it is not REQUEST, for the log line; else null. */
    public static String dispatch(ServletRequest request) {
        try {
            DispatcherType type = request.getDispatcherType();
            return type == null || type == DispatcherType.REQUEST ? null : type.name();
        } catch (RuntimeException ignored) {
            return null;
        }
    }

    static String withoutPathParameters(String path) {
        if (path == null || path.indexOf(';') < 0) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length());
        boolean inParameter = false;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == ';') {
                inParameter = true;
            } else if (c == '/') {
                inParameter = false;
            }
            if (!inParameter) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The most recent {@value #MAX_REPORTED} entries, oldest overwritten first. Thread-safe. */
    private static final class Recent<T> {
        private final Object[] entries = new Object[MAX_REPORTED];
        private int next;
        private int size;

        synchronized void add(T entry) {
            entries[next] = entry;
            next = (next + 1) % entries.length;
            size = Math.min(size + 1, entries.length);
        }

        @SuppressWarnings("unchecked")
        synchronized T find(Throwable failure, Function<T, Throwable> throwableOf) {
            for (int i = 0; i < size; i++) {
                T entry = (T) entries[i];
                if (throwableOf.apply(entry) == failure) {
                    return entry;
                }
            }
            return null;
        }
    }
}
