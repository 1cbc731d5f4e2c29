package dev.backstop.internal.servlet;

import dev.backstop.internal.tasks.RequestContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Catches failures that end an async cycle without passing through the filter on a request thread (the container
 * reports them to {@link AsyncListener#onError}), and ends the request's child-task groups when its last cycle is
 * over. Re-registers itself for every new async cycle. Stateless: one per filter, shared by every request.
 */
final class AsyncWatcher implements AsyncListener {

    private final Recovery recovery;

    AsyncWatcher(Recovery recovery) {
        this.recovery = recovery;
    }

    @Override
    public void onError(AsyncEvent event) {
        Throwable failure = event.getThrowable();
        ServletRequest request = event.getSuppliedRequest();
        ServletResponse response = event.getSuppliedResponse();
        RequestContext context = RequestContext.existing(request);
        boolean answeredBefore = context != null && context.handledAny();
        if (failure != null && request instanceof HttpServletRequest httpRequest
                && response instanceof HttpServletResponse httpResponse) {
            recovery.failAsync(httpRequest, httpResponse, event.getAsyncContext(), failure);
        }
        if (answeredBefore) {
            // Backstop already answered or aborted this request (an abort from an async thread makes Tomcat raise
            // this error event, possibly before that thread's complete()): a listener that completes the cycle
            // stops the container's error dispatch, which would write its error page into the aborted response.
            Recovery.completeQuietly(event.getAsyncContext());
        }
        closeOpenGroups(request);
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        event.getAsyncContext().addListener(this, event.getSuppliedRequest(), event.getSuppliedResponse());
    }

    @Override
    public void onComplete(AsyncEvent event) {
        RequestContext.end(event.getSuppliedRequest());
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        // A timeout is the container's to answer (an error dispatch), not a failure of the handler; but the
        // request's child tasks have no one left to wait for them. The request goes on: the application may still
        // answer it (a fallback page), opening groups of its own.
        closeOpenGroups(event.getSuppliedRequest());
    }

    private static void closeOpenGroups(ServletRequest request) {
        RequestContext context = RequestContext.existing(request);
        if (context != null) {
            context.closeOpenGroups();
        }
    }
}
