package dev.backstop.jersey.internal;

import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.ext.WriterInterceptor;
import jakarta.ws.rs.ext.WriterInterceptorContext;
import java.io.IOException;
import java.io.OutputStream;
import org.glassfish.jersey.internal.util.collection.Ref;
import org.glassfish.jersey.message.internal.CommittingOutputStream;

/**
 * Guards the writing of a response entity. When the writer fails after Jersey committed the response (status and
 * headers handed to the servlet response, part of the body with them), Jersey only logs the failure and then ends
 * the body as if it were whole: a clean 200 with a truncated body. Here Backstop answers instead: a 500 while
 * nothing is on the wire yet, else an aborted connection; the failure is reported once and not handed back to
 * Jersey, which would log it again and end the body.
 *
 * <p>A failure before Jersey committed goes on as thrown: Jersey maps it (with {@link UnmappedFailureMapper} as the
 * last resort), since its buffer still holds bytes that a 500 written here would be followed by.
 *
 * <p>The outermost writer interceptor (lowest priority value), so that the stream it sees is Jersey's own entity
 * stream, which knows whether it committed, and so that it sees what every other interceptor and the writer throw.
 * Thread-safe.
 */
@Priority(Integer.MIN_VALUE)
public final class EntityWriteGuard implements WriterInterceptor {

    // The servlet request and response themselves, not the proxies @Context gives: Backstop reads the container's
    // state from the response object.
    @Inject
    private Provider<Ref<HttpServletRequest>> request;

    @Inject
    private Provider<Ref<HttpServletResponse>> response;

    @Override
    public void aroundWriteTo(WriterInterceptorContext context) throws IOException {
        OutputStream entityStream = context.getOutputStream();
        try {
            context.proceed();
        } catch (IOException | RuntimeException | Error failure) {
            if (!committed(entityStream) || !answered(failure)) {
                throw failure;
            }
        }
    }

    private boolean answered(Throwable failure) {
        try {
            return Answering.answer(request, response, failure) != Answering.Outcome.LEFT_TO_CONTAINER;
        } catch (IllegalStateException unguarded) {
            failure.addSuppressed(unguarded); // Jersey logs the failure, and with it what is missing
            return false;
        }
    }

    /**
     * Whether Jersey committed the response. A stream of another kind (some interceptor ran outside this one)
     * cannot say, and the failure is left to Jersey as without the feature.
     */
    private static boolean committed(OutputStream entityStream) {
        return entityStream instanceof CommittingOutputStream jersey && jersey.isCommitted();
    }
}
