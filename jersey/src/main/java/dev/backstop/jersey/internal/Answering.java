package dev.backstop.jersey.internal;

import dev.backstop.RecoveryFilter;
import jakarta.inject.Provider;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.glassfish.jersey.internal.util.collection.Ref;
import org.glassfish.jersey.server.internal.process.MappableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one way the feature's providers hand a failure to the {@code RecoveryFilter} guarding the request. */
final class Answering {

    private static final Logger LOG = LoggerFactory.getLogger("dev.backstop.jersey");

    /** What became of a failure handed over. */
    enum Outcome {
        /** Backstop answered the client (a 500) or aborted the connection; nothing more may be written. */
        ANSWERED,
        /** Only the container can end this response (committed, on a container without a quiet abort). */
        LEFT_TO_CONTAINER,
        /**
         * No RecoveryFilter guards the request (or no servlet request is there): the failure was logged here,
         * nothing was answered.
         */
        UNGUARDED
    }

    private Answering() {
    }

    /**
     * Answers {@code response} as RecoveryFilter answers {@code failure} escaping the chain (reported once), and
     * commits what it wrote, so that whatever Jersey does with the response afterwards (its status and headers, a
     * {@code sendError} for an entity-less error status) cannot change it.
     */
    static Outcome answer(Provider<Ref<HttpServletRequest>> requests, Provider<Ref<HttpServletResponse>> responses,
            Throwable failure) {
        Throwable unwrapped = unwrap(failure);
        HttpServletResponse response;
        boolean answered;
        try {
            response = responses.get().get();
            answered = RecoveryFilter.answer(requests.get().get(), response, unwrapped);
        } catch (RuntimeException unguarded) {
            // No RecoveryFilter saw the request, or Jersey does not run in a servlet container here.
            LOG.error("BackstopFeature cannot answer this failure: no dev.backstop.RecoveryFilter guards the request "
                    + "(map it on /* for REQUEST, ASYNC and ERROR, first in the chain), or it is not a servlet "
                    + "request", unwrapped);
            return Outcome.UNGUARDED;
        }
        if (!answered) {
            return Outcome.LEFT_TO_CONTAINER;
        }
        try {
            response.flushBuffer();
        } catch (Exception aborted) {
            // The connection was aborted, or the client left: nothing more to send either way.
        }
        return Outcome.ANSWERED;
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
