package dev.backstop.internal.servlet;

import dev.backstop.ErrorResponder;
import dev.backstop.Failure;
import dev.backstop.internal.pipeline.Capture;
import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Classifier;
import dev.backstop.internal.pipeline.Kind;
import dev.backstop.internal.pipeline.LogLines;
import dev.backstop.internal.pipeline.Meters;
import dev.backstop.internal.pipeline.Pipeline;
import dev.backstop.internal.pipeline.Report;
import dev.backstop.internal.pipeline.Source;
import dev.backstop.internal.tasks.RequestContext;
import dev.backstop.internal.tasks.TaskRuntime;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * What {@code RecoveryFilter} does with a failure: report it through its Backstop's pipeline (unless this request's
 * report chain already did: a child's panic handed to its handler), then answer the client with a 500, or end the
 * connection when the response is already committed.
 *
 * <p>The contract, in one place:
 * <ul>
 *   <li>panic, not committed: reset, 500 from the responder (standard problem+json or text), counted
 *       {@code backstop.responses{outcome=error}}; a responder that throws is reported once and replaced by a plain
 *       500;</li>
 *   <li>panic, committed: nothing more is written; the container aborts the connection ({@link Container}), or the
 *       failure is rethrown for it to;</li>
 *   <li>client abort: recorded, nothing answered; {@code AbortRequestException}: aborted like a committed panic
 *       (where the failure must be rethrown, an uncommitted response is first committed as a bare 500, so that the
 *       container closes the connection rather than write its error page);</li>
 *   <li>fatal error: recorded, a bare, empty 500 committed (never the container's page, which would name it), or
 *       the connection aborted once bytes are out; never rethrown (the container would log a second stack); from
 *       {@code RecoveryFilter.fail}, the async cycle is completed.</li>
 * </ul>
 * Nothing here throws except the deliberate rethrow of a committed failure to a container that cannot abort.
 * Immutable and thread-safe.
 */
public final class Recovery {

    /** Request attribute holding the error id, for the container's error page ({@code use-error-pages}). */
    public static final String ERROR_ID_ATTRIBUTE = "dev.backstop.errorId";

    private final Pipeline pipeline;
    private final ErrorResponder responder;
    private final boolean customResponder;
    private final Container container;
    private final KeptHeaders keptHeaders;
    private final boolean useErrorPages;
    private final RequestContext.Binding binding;
    private final AsyncWatcher asyncWatcher = new AsyncWatcher(this);

    /**
     * @param pipeline the pipeline of the filter's Backstop
     * @param tasks the child-task runtime of the filter's Backstop, offered to the requests it guards
     * @param customResponder the user's responder, or null for the standard one
     * @param standard the standard responder
     * @param keptHeaders the headers that survive the reset before the 500
     * @param useErrorPages whether the container's error pages answer instead of the responder
     * @param context the filter's context, which tells the container
     */
    public Recovery(Pipeline pipeline, TaskRuntime tasks, ErrorResponder customResponder, StandardResponder standard,
            KeptHeaders keptHeaders, boolean useErrorPages, ServletContext context) {
        this.pipeline = pipeline;
        this.responder = customResponder != null ? customResponder : standard;
        this.customResponder = customResponder != null;
        this.keptHeaders = keptHeaders;
        this.useErrorPages = useErrorPages;
        this.container = Container.detecting();
        this.binding = new RequestContext.Binding(tasks, this);
    }

    /** @return the Recovery of the filter guarding {@code request}, or null when no RecoveryFilter bound it */
    public static Recovery of(ServletRequest request) {
        return RequestContext.owner(request) instanceof Recovery recovery ? recovery : null;
    }

    /**
     * The request enters this filter's chain; see {@link RequestContext#enter}.
     *
     * @return what {@link #exit} needs: the binding to put back; or the request's context, or null when the request
     *     refused it, when this filter owns the request's end
     */
    public Object enter(ServletRequest request) {
        try {
            return RequestContext.enter(request, binding);
        } catch (RuntimeException refused) {
            return null; // a request that refuses attributes only loses ChildTasks and the report chain
        }
    }


    /**
     * {@code RecoveryFilter.fail}: answers through the filter guarding the request; a request that is already over
     * (the container refuses its request object, or no filter guards it any more and its async cycle is over) gets
     * its failure logged instead.
     *
     * @throws IllegalStateException when no filter guards a request still in its async cycle
     */
    public static void fail(AsyncContext async, Throwable failure) {
        ServletRequest request;
        ServletResponse response;
        try {
            request = async.getRequest();
            response = async.getResponse();
        } catch (RuntimeException over) {
            LogLines.orphan(failure, new Capture(Source.HANDLER, null, null, null, null, null));
            return;
        }
        Recovery recovery = of(request);
        if (recovery != null && request instanceof HttpServletRequest httpRequest
                && response instanceof HttpServletResponse httpResponse) {
            recovery.failAsync(httpRequest, httpResponse, async, failure);
        } else if (isOver(request)) {
            HttpServletRequest http = request instanceof HttpServletRequest h ? h : null;
            LogLines.orphan(failure, new Capture(Source.HANDLER, RequestContext.method(http),
                    RequestContext.originalPath(http), null, null, null));
        } else {
            throw new IllegalStateException("RecoveryFilter.fail needs a request that passed through RecoveryFilter");
        }
    }

    private static boolean isOver(ServletRequest request) {
        try {
            return !request.isAsyncStarted();
        } catch (RuntimeException refused) {
            return true;
        }
    }

    /**
     * Answers an async request whose work failed away from the container's threads, exactly as if the failure had
     * escaped the chain: reported once (not again when this request's chain already did), 500 or abort, then the
     * async cycle is completed (unless only the container can still end it).
     */
    public void failAsync(HttpServletRequest request, HttpServletResponse response, AsyncContext async,
            Throwable failure) {
        RequestContext context = RequestContext.existing(request);
        // Often on a thread that is not the request's (a completion callback, the container's async error event):
        // the lines about it carry the request's MDC all the same.
        try (Guard.Context.Added ignored = context == null ? null : context.context().addMissing()) {
            if (context != null && context.wasHandled(failure)) {
                return;
            }
            if (handle(context, request, response, failure, false)) {
                async.complete();
            } else if (context != null && context.rethrowOnNextDispatch(failure)) {
                // Only the container can end this response (a container without a quiet abort), and only on its
                // own thread: dispatch once, and let the filter rethrow there, rather than leave the client waiting
                // for the async timeout. Once per request, so that a filter not mapped for ASYNC (the servlet runs
                // again instead) cannot loop.
                try {
                    async.dispatch();
                } catch (RuntimeException cannotDispatch) {
                    context.cancelRethrow(); // the application's own next dispatch runs as usual
                }
            }
        } catch (Throwable unexpected) {
            // handle() does not throw when it may not rethrow; complete() may, once the cycle is over.
        }
    }

    /** {@code RecoveryFilter.report}: reports once for this request, and remembers it in its report chain. */
    public String reportFor(HttpServletRequest request, Throwable failure) {
        RequestContext context = RequestContext.existing(request);
        Report report = context == null ? null : context.earlier(failure);
        if (report == null) {
            report = pipeline.report(failure, capture(request), false);
            if (context != null && report.errorId() != null) {
                context.remember(report);
            }
        }
        return report.errorId();
    }

    /** {@code RecoveryFilter.answer}: as if {@code failure} had escaped the chain, on the request's thread. */
    public boolean answerFor(HttpServletRequest request, HttpServletResponse response, Throwable failure) {
        RequestContext context = RequestContext.existing(request);
        try {
            if (context != null && context.wasHandled(failure)) {
                return true; // answered already
            }
            boolean answered = handle(context, request, response, failure, false);
            if (answered && context != null) {
                context.answered(failure);
            }
            return answered;
        } catch (IOException | ServletException | RuntimeException | Error unexpected) {
            return false; // handle() does not throw when it may not rethrow
        }
    }

    /** {@code RecoveryFilter.abort}: ends the connection at once, counted as an aborted response. */
    public boolean abortFor(HttpServletRequest request, HttpServletResponse response) {
        if (container.abort(response, null, closeDelimited(request, response))) {
            pipeline.response(Meters.OUTCOME_ABORTED, Kind.PANIC);
            return true;
        }
        return false;
    }

    /**
     * On an ASYNC dispatch that {@link #failAsync} started: rethrows, on the container's thread, the failure it
     * could not end itself (already reported). Does nothing on any other dispatch.
     */
    public static void rethrowPending(ServletRequest request) throws IOException, ServletException {
        RequestContext context = RequestContext.existing(request);
        Throwable pending = context == null ? null : context.takeRethrow();
        if (pending != null) {
            rethrow(pending);
        }
    }

    /**
     * Handles a throwable that escaped the filter chain on the request's own thread. Returns normally once the
     * client has been answered or the connection aborted.
     *
     * @throws IOException, ServletException, RuntimeException or Error: the original failure, only when the
     *     response is committed on a container that cannot abort quietly
     */
    public void onChainFailure(HttpServletRequest request, HttpServletResponse response, Throwable failure)
            throws IOException, ServletException {
        RequestContext context = RequestContext.existing(request);
        if (context != null && context.wasAnswered(failure)) {
            return; // a framework had Backstop answer it (RecoveryFilter.answer), then let it escape as well
        }
        if (context != null && context.wasHandled(failure)) {
            // Another RecoveryFilter in this chain reported it and rethrew it on purpose (fatal, or no quiet
            // abort): pass it on untouched rather than report it twice.
            rethrow(failure);
        }
        if (handle(context, request, response, failure, true)) {
            completeAsync(request);
        }
    }

    /**
     * Called when the chain of a dispatch is over, normally or not. The filter that made the request's context owns
     * its end: after a dispatch that started an async cycle it watches the cycle (the watcher re-registers itself for
     * every later cycle, and ends the request when the last one ends); after any other dispatch the request is over,
     * and it ends now. A nested filter, or a later dispatch of an async request, puts the outer binding back. The
     * watcher is shared: this allocates nothing.
     *
     * @param outer what {@link #enter} returned
     */
    public void exit(HttpServletRequest request, HttpServletResponse response, Object outer) {
        boolean outermost;
        if (outer instanceof RequestContext.Binding binding) {
            outermost = RequestContext.leave(request, binding);
        } else {
            RequestContext.leave(request, outer);
            outermost = true;
            endOrWatch(request, response, outer);
        }
        if (outermost && Thread.interrupted()) {
            // Set by an interrupted await() or go(), or by whoever interrupted the handler: the handler saw it; the
            // container's next request on this thread (a pipelined one, say) must not start interrupted.
            pipeline.interruptCleared(capture(request));
        }
    }

    private void endOrWatch(HttpServletRequest request, HttpServletResponse response, Object entered) {
        try {
            if (request.isAsyncStarted()) {
                RequestContext context = entered instanceof RequestContext made ? made
                        : RequestContext.existing(request);
                if (context != null) {
                    context.rememberContextIfNone(); // whatever ends the request runs on another thread
                }
                request.getAsyncContext().addListener(asyncWatcher, request, response);
                return;
            }
        } catch (RuntimeException alreadyOver) {
            // The async cycle completed between the check and here: the request is over.
        }
        RequestContext.end(request, entered);
    }

    /** @return true when the client was answered (or the connection aborted) and the async cycle may complete */
    private boolean handle(RequestContext context, HttpServletRequest request, HttpServletResponse response,
            Throwable failure, boolean mayRethrow) throws IOException, ServletException {
        Report report = context == null ? null : context.earlier(failure);
        if (report == null) {
            report = pipeline.report(failure, capture(request), container.outputFailed(response, failure));
        }
        if (context != null) {
            context.handled(failure);
        }
        switch (report.kind()) {
            case FATAL -> {
                // Never the container's page, which names the error and its message, and never rethrown to the
                // container, which would log its stack again: a bare, empty 500, or an abort once bytes are out.
                if (upgraded(response) || !takeOver(response)) {
                    return abort(request, response, failure, Kind.FATAL, mayRethrow);
                }
                pipeline.response(Meters.OUTCOME_ERROR, Kind.FATAL); // counted before the client has it
                commitBareError(response, true);
                return true;
            }
            case CLIENT_ABORT -> {
                // Nobody is listening; make sure the container does not try to finish the response either.
                container.abort(response, failure, closeDelimited(request, response));
                return true;
            }
            case ABORT_REQUESTED -> {
                return abort(request, response, failure, Kind.ABORT_REQUESTED, mayRethrow);
            }
            default -> {
                return answer(request, response, failure, report.errorId(), mayRethrow);
            }
        }
    }

    private boolean answer(HttpServletRequest request, HttpServletResponse response, Throwable failure,
            String errorId, boolean mayRethrow) throws IOException, ServletException {
        if (upgraded(response) || !takeOver(response)) {
            // An upgraded connection (chi's rule) or bytes on the wire: never a 500 now, the connection ends.
            return abort(request, response, failure, Kind.PANIC, mayRethrow);
        }
        if (useErrorPages && Boolean.TRUE.equals(hasErrorPage(request, failure))) {
            return errorPage(request, response, failure, errorId, mayRethrow);
        }
        try {
            response.setStatus(HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
            response.setHeader("Cache-Control", "no-store");
            responder.respond(request, response, failureDetails(request, failure, errorId));
            pipeline.response(Meters.OUTCOME_ERROR, Kind.PANIC);
            return true;
        } catch (Throwable responderFailed) {
            if (Classifier.isClientAbort(responderFailed, container.outputFailed(response, responderFailed))) {
                // The client left while we answered: count that, there is no one to answer.
                pipeline.report(responderFailed, capture(request), true);
                return true;
            }
            pipeline.internalFailure(customResponder ? "respond" : "standard-respond", responderFailed, errorId);
        }
        if (!takeOver(response)) {
            return abort(request, response, failure, Kind.PANIC, mayRethrow);
        }
        try {
            StandardResponder.writePlain(response, errorId);
            pipeline.response(Meters.OUTCOME_ERROR, Kind.PANIC);
            return true;
        } catch (Throwable fallbackFailed) {
            // Already reported once; the client gets an abort rather than a half-written fallback.
            return abort(request, response, failure, Kind.PANIC, mayRethrow);
        }
    }

    /**
     * Whether the application has an error page for {@code failure} (or for 500, or a default one). Without one the
     * container's own page would answer, and it shows the exception (Tomcat's report, Jetty's {@code CAUSED BY});
     * then, and when the container cannot say, Backstop answers as it does without {@code use-error-pages}.
     */
    private Boolean hasErrorPage(HttpServletRequest request, Throwable failure) {
        try {
            return container.hasErrorPage(request, failure);
        } catch (RuntimeException unknown) {
            return null;
        }
    }

    /**
     * {@code use-error-pages}: the application's error page for the failure's type, or for 500, answers; the failure
     * and its error id are in the request attributes it reads ({@value RequestDispatcher#ERROR_EXCEPTION} and
     * {@value #ERROR_ID_ATTRIBUTE}).
     */
    private boolean errorPage(HttpServletRequest request, HttpServletResponse response, Throwable failure,
            String errorId, boolean mayRethrow) throws IOException, ServletException {
        try {
            container.describeError(request, failure);
            request.setAttribute(ERROR_ID_ATTRIBUTE, errorId);
            response.setHeader("Cache-Control", "no-store");
            response.sendError(HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
            pipeline.response(Meters.OUTCOME_ERROR, Kind.PANIC); // counted once sendError took it, not before
            return true;
        } catch (Throwable refused) {
            return abort(request, response, failure, Kind.PANIC, mayRethrow);
        }
    }

    /**
     * Whether the response's body may be delimited by the connection's close, which only a reset tells from a
     * complete one: HTTP/1.0, and HTTP/1.1 without a {@code Content-Length} when the client or the application asked
     * for the connection to close (Jetty then sends the body close-delimited). Other HTTP/1.1 bodies carry their
     * length or chunks, so an orderly close already shows the cut and spares what the connection still has to send
     * (an earlier pipelined response); HTTP/2 streams share one connection and are never reset this way.
     */
    private static boolean closeDelimited(HttpServletRequest request, HttpServletResponse response) {
        try {
            String protocol = request.getProtocol();
            if ("HTTP/1.0".equals(protocol)) {
                return true;
            }
            if (!"HTTP/1.1".equals(protocol) || response.getHeader("Content-Length") != null) {
                return false;
            }
            return asksToClose(request.getHeader("Connection")) || asksToClose(response.getHeader("Connection"));
        } catch (RuntimeException unreadable) {
            return true;
        }
    }

    private static boolean asksToClose(String connection) {
        if (connection == null) {
            return false;
        }
        for (String token : connection.split(",")) {
            if (token.trim().equalsIgnoreCase("close")) {
                return true;
            }
        }
        return false;
    }

    /** A connection that {@code request.upgrade()} switched to another protocol: it has no HTTP response to give. */
    private static boolean upgraded(HttpServletResponse response) {
        try {
            return response.getStatus() == HttpServletResponse.SC_SWITCHING_PROTOCOLS;
        } catch (RuntimeException unreadable) {
            return false;
        }
    }

    /**
     * Takes the response over for Backstop's own answer, when nothing of it is on the wire (judged by the container's
     * real state, not {@code isCommitted()}, which is true once {@code sendError} was called): a pending
     * {@code sendError} is taken back, and the response reset, keeping the headers of {@code keep-headers}.
     *
     * @return false when bytes are on the wire, or the response refuses the reset: then it can only be aborted
     */
    private boolean takeOver(HttpServletResponse response) {
        try {
            if (container.onTheWire(response)) {
                return false;
            }
            container.cancelPendingError(response);
            keptHeaders.reset(response);
            container.afterReset(response);
            return true;
        } catch (RuntimeException committedMeanwhile) {
            // IllegalStateException when committed in between; anything else from a broken wrapper: the response
            // cannot be trusted to take a clean 500, so it is aborted instead.
            return false;
        }
    }

    /**
     * Ends a response that must not look complete. Returns false when only the container can do it: then the async
     * cycle must not be completed (that would finish the body cleanly) and the container's own error handling runs.
     */
    private boolean abort(HttpServletRequest request, HttpServletResponse response, Throwable failure, Kind reason,
            boolean mayRethrow) throws IOException, ServletException {
        if (container.abort(response, failure, closeDelimited(request, response))) {
            pipeline.response(Meters.OUTCOME_ABORTED, reason);
            return true;
        }
        pipeline.response(Meters.OUTCOME_CONTAINER, reason);
        if (!upgraded(response)) {
            commitBareError(response, false);
        }
        if (mayRethrow) {
            rethrow(failure);
        }
        return false;
    }

    /**
     * Commits a bare 500 with no body: for a fatal error, a complete, empty one ({@code complete}); before a failure
     * is rethrown to a container that cannot abort (which would answer an uncommitted response with its own page,
     * showing the exception's class and message), one whose body never ends properly.
     */
    private void commitBareError(HttpServletResponse response, boolean complete) {
        try {
            if (container.onTheWire(response)) {
                return;
            }
            container.cancelPendingError(response);
            keptHeaders.reset(response);
            container.afterReset(response);
            response.setStatus(HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
            response.setHeader("Cache-Control", "no-store");
            if (complete) {
                response.setContentLength(0);
            }
            response.flushBuffer();
        } catch (Throwable notCommitted) {
            // Then the container answers as it would without Backstop.
        }
    }

    private static Failure failureDetails(HttpServletRequest request, Throwable failure, String errorId) {
        String method = RequestContext.method(request);
        String path = RequestContext.originalPath(request);
        return new Failure(errorId, failure, Source.HANDLER.tag(), method == null ? "" : method,
                path == null ? "" : path);
    }

    private static void completeAsync(HttpServletRequest request) {
        try {
            if (request.isAsyncStarted()) {
                completeQuietly(request.getAsyncContext());
            }
        } catch (RuntimeException alreadyOver) {
            // Completed or aborted already.
        }
    }

    /** Completes an async cycle that may be completed or completing already. */
    static void completeQuietly(AsyncContext async) {
        try {
            async.complete();
        } catch (RuntimeException alreadyOver) {
            // Completed or aborted already.
        }
    }

    private static Capture capture(HttpServletRequest request) {
        return new Capture(Source.HANDLER, RequestContext.method(request), RequestContext.originalPath(request),
                RequestContext.dispatch(request), null, null);
    }

    /** Rethrows the original failure as itself where the filter signature allows, else wrapped. Always throws. */
    static void rethrow(Throwable failure) throws IOException, ServletException {
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
}
