package dev.backstop.jersey;

import dev.backstop.jersey.internal.EntityWriteGuard;
import dev.backstop.jersey.internal.UnmappedFailureMapper;
import jakarta.ws.rs.ConstrainedTo;
import jakarta.ws.rs.RuntimeType;
import jakarta.ws.rs.core.Feature;
import jakarta.ws.rs.core.FeatureContext;

/**
 * Makes Jersey 4 leave to {@link dev.backstop.RecoveryFilter} the failures it would otherwise answer, end cleanly or
 * swallow itself, so that each is logged once (with the error id the client sees), counted once in
 * {@code backstop.panics}, and answered as the filter answers a failure that escapes the chain. Register it on the
 * {@code ResourceConfig} of a Jersey {@code ServletContainer} whose requests pass through a {@code RecoveryFilter}
 * (mapped first, on {@code /*}, for REQUEST, ASYNC and ERROR):
 * <pre>{@code
 * context.addFilter(new FilterHolder(RecoveryFilter.builder().meterRegistry(registry).build()), "/*",
 *         EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
 * context.addServlet(new ServletHolder(new ServletContainer(
 *         new ResourceConfig(Orders.class).register(BackstopFeature.class))), "/api/*");
 * }</pre>
 *
 * <p>What it does:
 * <ul>
 *   <li><b>Unmapped failures</b> (a resource method, filter or provider threw something that is not a
 *       {@code WebApplicationException} and that no mapper of the application's maps), thrown on the request's thread
 *       or passed to {@code AsyncResponse.resume(Throwable)}: answered with {@code RecoveryFilter.answer}, Backstop's
 *       500 ({@code application/problem+json} with the error id, or the application's {@code ErrorResponder}), or an
 *       aborted connection when the response is already on the wire. Jersey writes nothing more and logs nothing.
 *       This is an {@code ExceptionMapper<Throwable>} of the lowest priority: the application's mappers for
 *       specific types win by their type, and an application's own {@code ExceptionMapper<Throwable>} wins by its
 *       priority (it then answers every failure itself; see {@code RecoveryFilter.report} to keep counting).</li>
 *   <li><b>An entity that fails while it is written</b> after Jersey committed the response (a
 *       {@code StreamingOutput} or a {@code MessageBodyWriter} that throws mid-body): answered the same way, a 500
 *       while nothing is on the wire, else an aborted connection: never a clean end of a truncated body. Before
 *       Jersey committed, the failure goes on to the mappers as any other.</li>
 *   <li><b>{@code WebApplicationException}s</b> (404, 400, 405, ... and their entities) are left to Jersey, as
 *       without the feature.</li>
 * </ul>
 * For servlet deployments of Jersey only: it answers through the {@code HttpServletRequest} and
 * {@code HttpServletResponse} Jersey's servlet container provides. A failure in a request that no
 * {@code RecoveryFilter} guards is left to Jersey, which logs it (SEVERE) together with an
 * {@code IllegalStateException} that says what is missing, and answers 500 itself.
 *
 * <p>Stateless and thread-safe; one instance may be registered on any number of applications.
 */
@ConstrainedTo(RuntimeType.SERVER)
public final class BackstopFeature implements Feature {

    /** Creates the feature; register it by class or instance. */
    public BackstopFeature() {
    }

    @Override
    public boolean configure(FeatureContext context) {
        context.register(UnmappedFailureMapper.class);
        context.register(EntityWriteGuard.class);
        return true;
    }
}
