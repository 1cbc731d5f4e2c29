package dev.backstop.internal.tasks;

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
 * Everything Backstop keeps for one request, in one request attribute ({@value #ATTRIBUTE}).
 *
 * <p>A filter that guards a request {@linkplain #bind binds} it: the attribute then holds the filter's
 * {@link Binding}, one immutable object per filter, so a request that fails nothing and opens no group allocates
 * nothing. The first thing that needs state of its own (a {@code ChildTasks} group, a failure) replaces it with a
 * {@code RequestContext}, which keeps the binding, the request's method and path (captured then, as strings: the
 * request object never crosses into a child), the groups still open, and the report chain: the failures already
 * reported for this request (a child's panic that its handler will rethrow; a failure a filter handled and rethrew
 * to an outer one), so that one failure handed along the chain is reported once, and every other occurrence is a
 * new panic. Thread-safe.
 */
public final class RequestContext {

    /** The request attribute holding the {@link Binding} or the {@code RequestContext}. */
    public static final String ATTRIBUTE = "dev.backstop.request";

    /** How many reported failures one request remembers for its chain; a group's first failure always fits. */
    static final int MAX_REPORTED = 32;

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

    private final Binding binding;
    private final String method;
    private final String path;

    // Guarded by this.
    private final List<TaskGroup> open = new ArrayList<>(2);
    private List<Report> reported;
    private List<Throwable> handled;
    private boolean ended;
    private Throwable pendingRethrow;
    private boolean dispatchedOnce;

    private RequestContext(Binding binding, String method, String path) {
        this.binding = binding;
        this.method = method;
        this.path = path;
    }

    /**
     * Binds {@code request} to {@code binding} unless it already is (a later dispatch of the same request), or a
     * context was already made for it (which keeps the binding it was made with).
     *
     * @return what the attribute held before, for {@link #unbind}
     */
    public static Object bind(ServletRequest request, Binding binding) {
        Object before = request.getAttribute(ATTRIBUTE);
        if (before != binding && !(before instanceof RequestContext)) {
            request.setAttribute(ATTRIBUTE, binding);
        }
        return before;
    }

    /**
     * Undoes {@link #bind} when a dispatch leaves the filter and the request goes on. For a filter nested inside
     * another one's chain, the outer filter's binding is put back, unless a context was made meanwhile (it then stays,
     * with its chain, for the outer filter to see).
     */
    public static void unbind(ServletRequest request, Binding binding, Object before) {
        if (before instanceof Binding && before != binding) {
            try {
                if (request.getAttribute(ATTRIBUTE) == binding) {
                    request.setAttribute(ATTRIBUTE, before);
                }
            } catch (RuntimeException recycled) {
                // The request is over.
            }
        }
    }

    /**
     * The request is over for the filter that bound it: its groups still open are closed, and, when that filter
     * was the outermost, the request is unbound, so that nothing can open a group on it any more.
     */
    public static void end(ServletRequest request, Binding binding, Object before) {
        Object value;
        try {
            value = request.getAttribute(ATTRIBUTE);
        } catch (RuntimeException recycled) {
            return;
        }
        if (value instanceof RequestContext context) {
            context.end();
        }
        if (before == null) {
            try {
                request.removeAttribute(ATTRIBUTE);
            } catch (RuntimeException recycled) {
                // The request is over.
            }
        } else {
            unbind(request, binding, before);
        }
    }

    /** @return the context of {@code request}, made now if a filter bound it, or null when no filter did */
    public static RequestContext of(ServletRequest request) {
        Object value;
        try {
            value = request.getAttribute(ATTRIBUTE);
        } catch (RuntimeException recycled) {
            return null;
        }
        if (value instanceof RequestContext context) {
            return context;
        }
        if (!(value instanceof Binding binding)) {
            return null;
        }
        synchronized (binding) {
            value = request.getAttribute(ATTRIBUTE);
            if (value instanceof RequestContext context) {
                return context;
            }
            HttpServletRequest http = request instanceof HttpServletRequest h ? h : null;
            RequestContext context = new RequestContext(binding, method(http), originalPath(http));
            request.setAttribute(ATTRIBUTE, context);
            return context;
        }
    }

    /** @return the context of {@code request} if one was made, without making one */
    public static RequestContext existing(ServletRequest request) {
        try {
            return request.getAttribute(ATTRIBUTE) instanceof RequestContext context ? context : null;
        } catch (RuntimeException recycled) {
            return null;
        }
    }

    /** @return the filter's object bound to {@code request}, or null */
    public static Object owner(ServletRequest request) {
        Object value;
        try {
            value = request.getAttribute(ATTRIBUTE);
        } catch (RuntimeException recycled) {
            return null;
        }
        if (value instanceof RequestContext context) {
            return context.binding.owner;
        }
        return value instanceof Binding binding ? binding.owner : null;
    }

    /** Closes the groups of an async request that has ended, and unbinds it. */
    public static void endAsync(ServletRequest request) {
        end(request, null, null);
    }

    TaskRuntime runtime() {
        return binding.tasks;
    }

    /** Starts a detached task on this request's runtime; see {@code ChildTasks.background}. */
    public void background(String name, Callable<?> body) {
        binding.tasks.background(this, name, body);
    }

    String method() {
        return method;
    }

    String path() {
        return path;
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
    public void end() {
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

    /** Remembers a failure reported for this request, so that the same failure handed along is not reported twice. */
    public synchronized void remember(Report report) {
        if (reported == null) {
            reported = new ArrayList<>(2);
        }
        if (reported.size() < MAX_REPORTED) {
            reported.add(report);
        }
    }

    /**
     * @return the report of {@code failure}, or of a throwable in its cause chain, if it was already reported for
     *     this request; else null. Compared by identity: a user's {@code equals} is never called.
     */
    public synchronized Report earlier(Throwable failure) {
        return inChain(failure, reported, Report::failure);
    }

    /**
     * Notes that a filter answered (or deliberately rethrew) {@code failure} for this request, so that the same
     * failure reaching a filter again in this request (an outer filter, the container's async error report) is passed
     * on rather than answered twice.
     */
    public synchronized void handled(Throwable failure) {
        if (handled == null) {
            handled = new ArrayList<>(1);
        }
        if (handled.size() < MAX_REPORTED) {
            handled.add(failure);
        }
    }

    /**
     * @return whether a filter already handled {@code failure}, or a throwable in its cause chain, for this request:
     *     containers wrap what a filter rethrew before they hand it back (Tomcat reports a failure rethrown from an
     *     ASYNC dispatch to {@code AsyncListener.onError} as {@code ServletException(RuntimeException(failure))})
     */
    public synchronized boolean wasHandled(Throwable failure) {
        return inChain(failure, handled, done -> done) != null;
    }

    /** The first entry whose throwable is {@code failure} or one in its cause chain, compared by identity. */
    private static <T> T inChain(Throwable failure, List<T> entries, Function<T, Throwable> throwableOf) {
        if (entries == null) {
            return null;
        }
        Throwable current = failure;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            for (T entry : entries) {
                if (throwableOf.apply(entry) == current) {
                    return entry;
                }
            }
            current = Texts.cause(current);
        }
        return null;
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
}
