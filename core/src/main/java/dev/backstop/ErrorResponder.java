package dev.backstop;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Writes the error response for a panic, in place of Backstop's standard {@code application/problem+json} or
 * {@code text/plain} 500 (the Java form of Gin's {@code CustomRecovery}).
 *
 * <p>{@link RecoveryFilter} calls it only when the response is not committed, after {@code response.reset()} and
 * {@code response.setStatus(500)} and with {@code Cache-Control: no-store} set; the responder may change all of
 * these. If it throws, the filter reports that second failure once and falls back to its own plain-text 500, so
 * a broken responder never leaves the client without an answer. A responder is called concurrently from many
 * request threads and must be thread-safe.
 *
 * <pre>{@code
 * RecoveryFilter filter = RecoveryFilter.builder()
 *     .errorResponder((request, response, failure) -> {
 *         response.setContentType("text/html;charset=utf-8");
 *         response.getWriter().write("<h1>Sorry</h1><p>Error id " + failure.errorId() + "</p>");
 *     })
 *     .build();
 * }</pre>
 */
@FunctionalInterface
public interface ErrorResponder {

    /**
     * Writes the response for one failure.
     *
     * @param request the request that failed
     * @param response the response, reset, with status 500 and {@code Cache-Control: no-store} already set
     * @param failure what failed, with the error id that Backstop logged
     * @throws IOException if writing the response fails
     */
    void respond(HttpServletRequest request, HttpServletResponse response, Failure failure) throws IOException;
}
