package dev.backstop.internal;

import dev.backstop.ErrorResponder;
import dev.backstop.Failure;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * What {@link dev.backstop.RecoveryFilter} does with a failure: report it through the pipeline, then answer the
 * client with a 500, or abort the connection when the response is already committed.
 *
 * <p>The contract, in one place:
 * <ul>
 *   <li>panic, not committed: reset, 500 from the responder (standard problem+json or text), counted
 *       {@code backstop.responses{outcome=error}}; a responder that throws is reported once and replaced by a plain
 *       500;</li>
 *   <li>panic, committed: nothing more is written; on Jetty the connection is aborted ({@code sendError(-1)}),
 *       elsewhere the failure is rethrown to the container;</li>
 *   <li>client abort: recorded, nothing answered; {@code AbortRequestException}: aborted like a committed panic
 *       (elsewhere than Jetty, an uncommitted response is first committed as a bare 500, so that the container
 *       closes the connection rather than write its error page);</li>
 *   <li>fatal error: recorded, then rethrown untouched.</li>
 * </ul>
 * Nothing here throws except those deliberate rethrows. Immutable and thread-safe.
 */
public final class Recovery {

    /** Request attribute holding the throwable this filter already handled, so no path reports it twice. */
    public static final String HANDLED_ATTRIBUTE = "dev.backstop.handled";
    /** Request attribute: a failure {@code fail()} could not end itself, rethrown by the filter on an ASYNC dispatch. */
    static final String RETHROW_ATTRIBUTE = "dev.backstop.rethrow";
    private static final String DISPATCHED_ATTRIBUTE = "dev.backstop.rethrow.dispatched";

    /**
     * Request attribute holding the Recovery of the filter that guards the request, for code that runs off the
     * dispatch thread: set for async requests and for requests that open a ChildTasks group. Also a ServletContext
     * attribute naming the filter initialised last, for {@code RecoveryFilter.fail}.
     */
    public static final String ATTRIBUTE = "dev.backstop.recovery";

    /** The Recovery of the filter whose chain this thread is running, if any: a plain request costs no attribute. */
    private static final ThreadLocal<Recovery> GUARDING = new ThreadLocal<>();

    private static final String ASYNC_REQUEST_URI = "jakarta.servlet.async.request_uri";

    private final Reporter reporter;
    private final ErrorResponder responder;
    private final boolean customResponder;
    private final boolean quietAbort;
    private final TaskRuntime tasks;
    private final AsyncWatcher asyncWatcher = new AsyncWatcher();

    /**
     * @param reporter the pipeline
     * @param customResponder the user's responder, or null for the standard one
     * @param standard the standard responder
     * @param quietAbort whether the container aborts a connection on {@code sendError(-1)} (Jetty)
     * @param tasks the child-task machinery of the filter
     */
    public Recovery(Reporter reporter, ErrorResponder customResponder, StandardResponder standard, boolean quietAbort,
            TaskRuntime tasks) {
        this.reporter = reporter;
        this.tasks = tasks;
        this.responder = customResponder != null ? customResponder : standard;
        this.customResponder = customResponder != null;
        this.quietAbort = quietAbort;
    }

    /**
     * @return the Recovery of the filter guarding {@code request}: the one whose chain runs on this thread, else the
     *     one remembered on the request (async requests, requests with child tasks); null when no RecoveryFilter saw
     *     it
     */
    public static Recovery of(ServletRequest request) {
        Recovery guarding = GUARDING.get();
        if (guarding != null) {
            return guarding;
        }
        try {
            return request.getAttribute(ATTRIBUTE) instanceof Recovery recovery ? recovery : null;
        } catch (RuntimeException recycled) {
            return null;
        }
    }

    public Reporter reporter() {
        return reporter;
    }

    public TaskRuntime tasks() {
        return tasks;
    }

    /**
     * Marks this thread as running the chain of this filter, so that ChildTasks opened here find it. Setting an
     * existing thread-local entry allocates nothing.
     *
     * @return the mark it replaces, for {@link #exit(Recovery)}
     */
    public Recovery enter() {
        Recovery outer = GUARDING.get();
        GUARDING.set(this);
        return outer;
    }

    /** Restores the mark {@link #enter()} replaced; null is set rather than removed, to keep the entry. */
    public static void exit(Recovery outer) {
        GUARDING.set(outer);
    }

    /** Remembers this filter on the request, for code that runs after the dispatch or on other threads. */
    public void rememberOn(ServletRequest request) {
        try {
            request.setAttribute(ATTRIBUTE, this);
        } catch (RuntimeException refused) {
            // Then only the dispatch thread finds the filter.
        }
    }

    /**
     * Answers an async request whose work failed away from the container's threads, exactly as if the failure had
     * escaped the chain: reported once (not again when a task already did), 500 or abort, then the async cycle is
     * completed (unless only the container can still end it).
     */
    public void failAsync(HttpServletRequest request, HttpServletResponse response, AsyncContext async,
            Throwable failure) {
        try {
            if (alreadyHandled(request, failure)) {
                return;
            }
            markHandled(request, failure);
            if (handle(request, response, failure, false)) {
                async.complete();
            } else if (!isFatal(failure) && request.getAttribute(DISPATCHED_ATTRIBUTE) == null) {
                // Only the container can end this response (a container without a quiet abort), and only on its
                // own thread: dispatch once, and let the filter rethrow there, rather than leave the client waiting
                // for the async timeout. Once per request, so that a filter not mapped for ASYNC (the servlet runs
                // again instead) cannot loop.
                request.setAttribute(DISPATCHED_ATTRIBUTE, Boolean.TRUE);
                request.setAttribute(RETHROW_ATTRIBUTE, failure);
                try {
                    async.dispatch();
                } catch (RuntimeException cannotDispatch) {
                    request.removeAttribute(RETHROW_ATTRIBUTE); // the application's own next dispatch runs as usual
                }
            }
        } catch (Throwable unexpected) {
            // handle() does not throw when it may not rethrow; complete() may, once the cycle is over.
        }
    }

    /**
     * On an ASYNC dispatch that {@link #failAsync} started: rethrows, on the container's thread, the failure it
     * could not end itself (already reported). Does nothing on any other dispatch.
     */
    public static void rethrowPending(ServletRequest request) throws IOException, ServletException {
        Object pending;
        try {
            pending = request.getAttribute(RETHROW_ATTRIBUTE);
            if (pending == null) {
                return;
            }
            request.removeAttribute(RETHROW_ATTRIBUTE);
        } catch (RuntimeException recycled) {
            return;
        }
        if (pending instanceof Throwable failure) {
            rethrow(failure);
        }
    }

    /**
     * Handles a throwable that escaped the filter chain on the request's own thread. Returns normally once the
     * client has been answered or the connection aborted.
     *
     * @throws IOException, ServletException, RuntimeException or Error: the original failure, only when it is
     *     fatal or the response is committed on a container that cannot abort quietly
     */
    public void onChainFailure(HttpServletRequest request, HttpServletResponse response, Throwable failure)
            throws IOException, ServletException {
        if (alreadyHandled(request, failure)) {
            // Another RecoveryFilter in this chain reported it and rethrew it on purpose (fatal, or no quiet
            // abort): pass it on untouched rather than report it twice.
            rethrow(failure);
        }
        markHandled(request, failure);
        boolean answered = handle(request, response, failure, true);
        if (answered) {
            completeAsync(request);
        }
    }

    /**
     * Called when the chain of a dispatch is over, normally or not. After a REQUEST dispatch that started an async
     * cycle, watches it: the watcher re-registers itself for every later cycle in
     * {@link AsyncListener#onStartAsync}, and closes the request's child-task groups when the last cycle ends.
     * After any other REQUEST dispatch the request is over, and its groups are closed now. The watcher is
     * stateless and shared, so this allocates nothing.
     */
    public void afterChain(HttpServletRequest request, HttpServletResponse response) {
        try {
            if (request.getDispatcherType() != DispatcherType.REQUEST) {
                return;
            }
            if (request.isAsyncStarted()) {
                rememberOn(request);
                request.getAsyncContext().addListener(asyncWatcher, request, response);
                return;
            }
        } catch (RuntimeException alreadyOver) {
            // The async cycle completed between the check and here: the request is over.
        }
        TaskRuntime.endRequest(request);
    }

    /** @return true when the client was answered (or the connection aborted) and the async cycle may complete */
    private boolean handle(HttpServletRequest request, HttpServletResponse response, Throwable failure,
            boolean mayRethrow) throws IOException, ServletException {
        Report report = reporter.report(failure, capture(request));
        switch (report.kind()) {
            case FATAL -> {
                reporter.response(Meters.OUTCOME_CONTAINER, Kind.FATAL);
                if (mayRethrow) {
                    rethrow(failure);
                }
                return false;
            }
            case CLIENT_ABORT -> {
                // Nobody is listening; make sure the container does not try to finish the response either.
                if (quietAbort) {
                    tryAbort(response);
                }
                return true;
            }
            case ABORT_REQUESTED -> {
                return abort(response, failure, Kind.ABORT_REQUESTED, mayRethrow);
            }
            default -> {
                return answer(request, response, failure, report.errorId(), mayRethrow);
            }
        }
    }

    private boolean answer(HttpServletRequest request, HttpServletResponse response, Throwable failure,
            String errorId, boolean mayRethrow) throws IOException, ServletException {
        if (!resetIfUncommitted(response)) {
            return abort(response, failure, Kind.PANIC, mayRethrow);
        }
        try {
            response.setStatus(HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
            response.setHeader("Cache-Control", "no-store");
            responder.respond(request, response, failureDetails(request, failure, errorId));
            reporter.response(Meters.OUTCOME_ERROR, Kind.PANIC);
            return true;
        } catch (Throwable responderFailed) {
            if (Classifier.isClientAbort(responderFailed)) {
                // The client left while we answered: count that, there is no one to answer.
                reporter.report(responderFailed, capture(request));
                return true;
            }
            reporter.internalFailure(customResponder ? "respond" : "standard-respond", responderFailed, errorId);
        }
        if (!resetIfUncommitted(response)) {
            return abort(response, failure, Kind.PANIC, mayRethrow);
        }
        try {
            StandardResponder.writePlain(response, errorId);
            reporter.response(Meters.OUTCOME_ERROR, Kind.PANIC);
            return true;
        } catch (Throwable fallbackFailed) {
            // Already reported once; the client gets an abort rather than a half-written fallback.
            return abort(response, failure, Kind.PANIC, mayRethrow);
        }
    }

    /**
     * Ends a response that must not look complete. Returns false when only the container can do it: then the async
     * cycle must not be completed (that would finish the body cleanly) and the container's own error handling runs.
     */
    private boolean abort(HttpServletResponse response, Throwable failure, Kind reason, boolean mayRethrow)
            throws IOException, ServletException {
        if (quietAbort && tryAbort(response)) {
            reporter.response(Meters.OUTCOME_ABORTED, reason);
            return true;
        }
        reporter.response(Meters.OUTCOME_CONTAINER, reason);
        commitBareError(response);
        if (mayRethrow) {
            rethrow(failure);
        }
        return false;
    }

    /** A fatal error is left to the container as it is: no dispatch, no reset. */
    private static boolean isFatal(Throwable failure) {
        Throwable thrown = Classifier.unwrap(failure);
        return thrown instanceof VirtualMachineError && !(thrown instanceof StackOverflowError);
    }

    /**
     * Before a failure is rethrown to a container without a quiet abort: a container answers an uncommitted response
     * with its own error page (Tomcat's shows the exception's class and message, and keeps the handler's headers),
     * but ends a committed one by closing the connection at once. So an uncommitted response is committed as a bare
     * 500 first: the client sees a 500 whose body never ends properly, nothing more.
     */
    private static void commitBareError(HttpServletResponse response) {
        try {
            if (response.isCommitted()) {
                return;
            }
            response.reset();
            response.setStatus(HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
            response.setHeader("Cache-Control", "no-store");
            response.flushBuffer();
        } catch (Throwable notCommitted) {
            // Then the container answers as it would without Backstop.
        }
    }

    private static boolean tryAbort(HttpServletResponse response) {
        try {
            response.sendError(-1);
            return true;
        } catch (Throwable notAborted) {
            return false;
        }
    }

    private static boolean resetIfUncommitted(HttpServletResponse response) {
        try {
            if (response.isCommitted()) {
                return false;
            }
            response.reset();
            return true;
        } catch (RuntimeException committedMeanwhile) {
            // IllegalStateException when committed in between; anything else from a broken wrapper: the response
            // cannot be trusted to take a clean 500, so it is aborted instead.
            return false;
        }
    }

    private static Failure failureDetails(HttpServletRequest request, Throwable failure, String errorId) {
        String method = orEmpty(safeMethod(request));
        return new Failure(errorId, failure, Source.HANDLER.tag(), method, orEmpty(originalPath(request)));
    }

    private static void completeAsync(HttpServletRequest request) {
        try {
            if (request.isAsyncStarted()) {
                request.getAsyncContext().complete();
            }
        } catch (RuntimeException alreadyOver) {
            // Completed or aborted already.
        }
    }

    /**
     * True when this filter already handled {@code failure}, or a throwable in its cause chain: containers wrap what
     * a filter rethrew before they hand it back (Tomcat reports a failure rethrown from an ASYNC dispatch to
     * {@link AsyncListener#onError} as {@code ServletException(RuntimeException(failure))}).
     */
    private static boolean alreadyHandled(ServletRequest request, Throwable failure) {
        Object handled;
        try {
            handled = request.getAttribute(HANDLED_ATTRIBUTE);
        } catch (RuntimeException e) {
            return false;
        }
        if (handled == null) {
            return false;
        }
        Throwable current = failure;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            if (current == handled) {
                return true;
            }
            current = Texts.cause(current);
        }
        return false;
    }

    private static void markHandled(ServletRequest request, Throwable failure) {
        try {
            request.setAttribute(HANDLED_ATTRIBUTE, failure);
        } catch (RuntimeException ignored) {
            // A request that refuses attributes only loses the duplicate guard for async errors.
        }
    }

    static Capture capture(HttpServletRequest request) {
        String dispatch = null;
        try {
            DispatcherType type = request.getDispatcherType();
            dispatch = type == null || type == DispatcherType.REQUEST ? null : type.name();
        } catch (RuntimeException ignored) {
            // Keep what can be had.
        }
        return new Capture(Source.HANDLER, safeMethod(request), originalPath(request), dispatch);
    }

    static String safeMethod(HttpServletRequest request) {
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
    static String originalPath(HttpServletRequest request) {
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

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }

    /** Rethrows the original failure as itself where the filter signature allows, else wrapped. Always throws. */
    private static void rethrow(Throwable failure) throws IOException, ServletException {
        if (failure instanceof Error error) {
            throw error;
        }
        if (failure instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (failure instanceof IOException io) {
            throw io;
        }
        if (failure instanceof ServletException servlet) {
            throw servlet;
        }
        throw new ServletException(failure);
    }

    /**
     * Catches failures that end an async cycle without passing through the filter on a request thread: the
     * container reports them to {@link AsyncListener#onError}. Re-registers itself for every new async cycle.
     */
    private final class AsyncWatcher implements AsyncListener {

        @Override
        public void onError(AsyncEvent event) {
            Throwable failure = event.getThrowable();
            ServletRequest request = event.getSuppliedRequest();
            ServletResponse response = event.getSuppliedResponse();
            if (failure == null || !(request instanceof HttpServletRequest httpRequest)
                    || !(response instanceof HttpServletResponse httpResponse)) {
                return;
            }
            failAsync(httpRequest, httpResponse, event.getAsyncContext(), failure);
            TaskRuntime.endRequest(request);
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            event.getAsyncContext().addListener(this, event.getSuppliedRequest(), event.getSuppliedResponse());
        }

        @Override
        public void onComplete(AsyncEvent event) {
            TaskRuntime.endRequest(event.getSuppliedRequest());
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            // A timeout is the container's to answer (an error dispatch), not a failure of the handler; but the
            // request's child tasks have no one left to wait for them.
            TaskRuntime.endRequest(event.getSuppliedRequest());
        }
    }
}
