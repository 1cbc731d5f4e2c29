package dev.backstop.jersey.internal;

import dev.backstop.RecoveryFilter;
import jakarta.inject.Provider;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.glassfish.jersey.internal.util.collection.Ref;
import org.glassfish.jersey.server.internal.process.MappableException;

/** The one way the feature's providers hand a failure to the {@code RecoveryFilter} guarding the request. */
final class Answering {

    private Answering() {
    }

    /**
     * Answers the response as RecoveryFilter answers {@code failure} escaping the chain (reported once), and commits
     * what it wrote, so that whatever Jersey does with the response afterwards (its status and headers, a
     * {@code sendError} for an entity-less error status) cannot change it. The request and response are the servlet
     * container's own objects (Jersey's references to them, not the proxies {@code @Context} injects): Backstop reads
     * the container's state from them.
     *
     * @return true when Backstop answered the client (a 500) or aborted the connection, and nothing more may be
     *     written; false when only the container can end this response (committed, on a container without a quiet
     *     abort)
     * @throws IllegalStateException when no RecoveryFilter guards the request, or there is no servlet request
     */
    static boolean answer(Provider<Ref<HttpServletRequest>> requests, Provider<Ref<HttpServletResponse>> responses,
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
        if (!RecoveryFilter.answer(request, response, unwrap(failure))) {
            return false;
        }
        try {
            response.flushBuffer();
        } catch (Exception aborted) {
            // The connection was aborted, or the client left: nothing more to send either way.
        }
        return true;
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
