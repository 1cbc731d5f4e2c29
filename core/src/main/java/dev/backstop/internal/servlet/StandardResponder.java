package dev.backstop.internal.servlet;

import dev.backstop.ErrorResponder;
import dev.backstop.Failure;
import dev.backstop.internal.pipeline.Texts;
import dev.backstop.internal.pipeline.Tracing;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Backstop's own 500: RFC 9457 {@code application/problem+json} ({@code type}, {@code title}, {@code status},
 * {@code errorId}) or {@code text/plain}, chosen from the Accept header. It names no exception class, message or
 * stack frame unless stack traces are exposed. Immutable and thread-safe.
 */
public final class StandardResponder implements ErrorResponder {

    public static final String PROBLEM_JSON = "application/problem+json";
    public static final String TEXT_PLAIN = "text/plain;charset=utf-8";
    public static final String TITLE = "Internal Server Error";

    private final boolean exposeStackTraces;
    private final String problemType;
    private final boolean problemInstance;
    private final boolean problemTraceId;
    /** The part of the JSON body that is the same for every failure: type, title and status. */
    private final String jsonStart;

    /**
     * @param problemInstance whether the JSON names the request's path as {@code instance}, as Spring's does
     * @param problemTraceId whether the JSON carries the current OpenTelemetry trace id, when there is one
     */
    public StandardResponder(boolean exposeStackTraces, String problemType, boolean problemInstance,
            boolean problemTraceId) {
        this.exposeStackTraces = exposeStackTraces;
        this.problemType = problemType;
        this.problemInstance = problemInstance;
        this.problemTraceId = problemTraceId;
        this.jsonStart = Json.quote(new StringBuilder("{\"type\":"), problemType)
                .append(",\"title\":").append(Json.quote(TITLE)).append(",\"status\":500").toString();
    }

    @Override
    public void respond(HttpServletRequest request, HttpServletResponse response, Failure failure) throws IOException {
        boolean json = Negotiation.prefersJson(safeHeader(request, "Accept"));
        String body = json ? json(failure) : text(failure.errorId(), failure.exception());
        write(response, json ? PROBLEM_JSON : TEXT_PLAIN, body);
    }

    /** The last-resort answer when a custom responder failed: plain text, nothing but the error id. */
    public static void writePlain(HttpServletResponse response, String errorId) throws IOException {
        write(response, TEXT_PLAIN, plainBody(errorId));
    }

    /**
     * Writes the body into the response buffer without a Content-Length and without flushing: the container
     * finishes the response (and sets the length of so small a body itself) only after the filter returns, so the
     * meters already count the 500 when the client receives it.
     */
    private static void write(HttpServletResponse response, String contentType, String body) throws IOException {
        response.setStatus(HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
        response.setHeader("Cache-Control", "no-store");
        response.setContentType(contentType);
        OutputStream out;
        try {
            out = response.getOutputStream();
        } catch (IllegalStateException writerInUse) {
            // The handler took the writer and this container kept that through reset(); the body is ASCII-safe
            // JSON or UTF-8 text, so the writer is as good.
            response.getWriter().write(body);
            return;
        }
        out.write(body.getBytes(StandardCharsets.UTF_8));
    }

    private String json(Failure failure) {
        StringBuilder out = new StringBuilder(jsonStart.length() + 64).append(jsonStart);
        if (problemInstance && !failure.path().isEmpty()) {
            Json.quote(out.append(",\"instance\":"), failure.path());
        }
        Json.quote(out.append(",\"errorId\":"), failure.errorId());
        String traceId = problemTraceId ? Tracing.currentTraceId() : null;
        if (traceId != null) {
            Json.quote(out.append(",\"traceId\":"), traceId);
        }
        if (exposeStackTraces) {
            Throwable t = failure.exception();
            Json.quote(out.append(",\"exception\":"), t.getClass().getName());
            Json.quote(out.append(",\"detail\":"), String.valueOf(Texts.message(t)));
            Json.quote(out.append(",\"stackTrace\":"), Texts.stackTrace(t));
        }
        return out.append('}').toString();
    }

    private String text(String errorId, Throwable exposed) {
        String head = plainBody(errorId);
        return exposeStackTraces ? head + "\n" + Texts.stackTrace(exposed) : head;
    }

    private static String plainBody(String errorId) {
        return TITLE + "\nerrorId: " + errorId + "\n";
    }

    private static String safeHeader(HttpServletRequest request, String name) {
        try {
            return request.getHeader(name);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
