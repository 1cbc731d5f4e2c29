package dev.backstop.jersey.internal;

import dev.backstop.AbortRequestException;
import dev.backstop.RecoveryFilter;
import jakarta.inject.Provider;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.glassfish.jersey.internal.util.collection.Ref;
import org.glassfish.jersey.server.internal.process.MappableException;

/** The one way the feature's providers hand a failure to the {@code RecoveryFilter} guarding the request. */
final class Answering {

    /** What became of a failure handed over. */
    enum Outcome {
        /** Backstop answered (its 500 is sent) or aborted a committed response: nothing more may be written. */
        ANSWERED,
        /**
         * Backstop aborts the connection before anything was sent (an {@code AbortRequestException}): on Jetty that
         * happens when the dispatch ends, so the response must stay as it is until then, and in particular get no
         * {@code sendError}.
         */
        ABORTING,
        /** Only the container can end this response (committed, on a container without a quiet abort). */
        LEFT_TO_CONTAINER
    }

    private Answering() {
    }

    /**
     * Answers the response as RecoveryFilter answers {@code failure} escaping the chain (reported once), and commits
     * what it wrote, so that whatever Jersey does with the response afterwards (its status and headers, a
     * {@code sendError} for an entity-less error status) cannot change it. The request and response are the servlet
     * container's own objects (Jersey's references to them, not the proxies {@code @Context} injects): Backstop reads
     * the container's state from them.
     *
     * @return what became of it
     * @throws IllegalStateException when no RecoveryFilter guards the request, or there is no servlet request
     */
    static Outcome answer(Provider<Ref<HttpServletRequest>> requests, Provider<Ref<HttpServletResponse>> responses,
            Throwable failure) {
        HttpServletRequest request;
        HttpServletResponse response;
        try {
            request = requests.get().get();
            response = responses.get().get();
        } catch (RuntimeException notServlet) {
            throw new IllegalStateException("BackstopFeature needs Jersey's servlet container (ServletContainer) "
                    + "behind a dev.backstop.RecoveryFilter", notServlet);
        }
        if (request == null || response == null) {
            throw new IllegalStateException("BackstopFeature needs Jersey's servlet container (ServletContainer) "
                    + "behind a dev.backstop.RecoveryFilter");
        }
        Throwable thrown = unwrap(failure);
        if (!RecoveryFilter.answer(request, response, thrown)) {
            return Outcome.LEFT_TO_CONTAINER;
        }
        if (abortRequested(thrown) && !response.isCommitted()) {
            return Outcome.ABORTING;
        }
        // A 500 waits in the buffer: send it now, before Jersey sets its own status on the response.
        if (!response.isCommitted()) {
            try {
                response.flushBuffer();
            } catch (Exception clientGone) {
                // Nothing more to send to a client that left.
            }
        }
        return Outcome.ANSWERED;
    }

    /** An {@link AbortRequestException}, also under plain {@code ServletException} wrappers, as Backstop sees it. */
    private static boolean abortRequested(Throwable thrown) {
        Throwable current = thrown;
        for (int i = 0; i < 8 && current != null; i++) {
            if (current instanceof AbortRequestException) {
                return true;
            }
            if (current.getClass() != ServletException.class) {
                return false;
            }
            current = current.getCause();
        }
        return false;
    }

    /** Jersey's own wrapper around what a resource or provider threw; Backstop's line names what was thrown. */
    static Throwable unwrap(Throwable failure) {
        Throwable current = failure;
        for (int i = 0; i < 8 && current instanceof MappableException && current.getCause() != null; i++) {
            current = current.getCause();
        }
        return current;
    }
}
