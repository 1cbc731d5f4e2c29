package dev.backstop.jersey;

import dev.backstop.RecoveryFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * The README's catch-all mapper, line for line ({@code BackstopFeatureTest} checks both): an application's
 * {@code ExceptionMapper<Throwable>} that answers every failure itself and keeps counting with
 * {@code RecoveryFilter.report}.
 */
@Provider
public class ErrorMapper implements ExceptionMapper<Throwable> {
    @Context
    private HttpServletRequest request;

    @Override
    public Response toResponse(Throwable failure) {
        if (failure instanceof WebApplicationException web) {
            return web.getResponse();                              // 404, 400, ...: not panics
        }
        String errorId = RecoveryFilter.report(request, failure);  // Backstop's ERROR line and count, once
        return Response.status(503).type(MediaType.APPLICATION_JSON)
                .entity("{\"error\":\"unavailable\",\"errorId\":\"" + errorId + "\"}").build();
    }
}
