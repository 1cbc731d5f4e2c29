package dev.backstop.jersey.internal;

import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.glassfish.jersey.internal.util.collection.Ref;
import org.glassfish.jersey.spi.ExtendedExceptionMapper;

/**
 * The mapper of last resort: a failure no mapper of the application's maps is answered by Backstop, on the request's
 * thread or the thread that called {@code AsyncResponse.resume(Throwable)}.
 *
 * <p>Why a mapper rather than {@code ServerProperties.RESPONSE_SET_STATUS_OVER_SEND_ERROR}: with that property,
 * Jersey still rethrows a synchronous failure to the container after logging it with its stack, and answers an
 * asynchronous one itself (an empty 500) without anything reaching the filter. A mapper sees both, and Jersey logs
 * nothing of a mapped failure.
 *
 * <p>{@code WebApplicationException}s are not mappable here, so Jersey answers them exactly as without the feature.
 * Lowest priority: among mappers of {@code Throwable}, Jersey picks the one of highest priority, so an application's
 * own catch-all wins. Thread-safe: the request and response are looked up for the current request on each call.
 */
@Priority(Integer.MAX_VALUE)
public final class UnmappedFailureMapper implements ExtendedExceptionMapper<Throwable> {

    // The servlet request and response themselves, not the proxies @Context gives: Backstop reads the container's
    // state from the response object.
    @Inject
    private Provider<Ref<HttpServletRequest>> request;

    @Inject
    private Provider<Ref<HttpServletResponse>> response;

    @Override
    public boolean isMappable(Throwable failure) {
        return !(failure instanceof WebApplicationException);
    }

    /**
     * Backstop answers, and commits its answer; the response returned carries no entity, so Jersey writes nothing
     * into it (on a committed response it sets nothing either). Before an abort that is still to happen, the
     * response returned is a 204: Jersey turns an entity-less error status into a {@code sendError}, which fails on
     * the aborted response and which Jersey would log, but sets a lower one and leaves it. When no RecoveryFilter
     * guards the request this
     * throws, with the failure as the cause: Jersey then logs both (SEVERE) and answers 500 itself.
     */
    @Override
    public Response toResponse(Throwable failure) {
        Answering.Outcome outcome;
        try {
            outcome = Answering.answer(request, response, failure);
        } catch (IllegalStateException unguarded) {
            throw new IllegalStateException(unguarded.getMessage(), failure);
        }
        return outcome == Answering.Outcome.ABORTING ? Response.noContent().build() : Response.serverError().build();
    }
}
