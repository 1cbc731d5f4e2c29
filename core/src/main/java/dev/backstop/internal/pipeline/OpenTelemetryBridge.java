package dev.backstop.internal.pipeline;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;

/** The one class that names OpenTelemetry types; loaded only when {@link Tracing} found the API. */
final class OpenTelemetryBridge {

    private static final AttributeKey<String> ERROR_ID = AttributeKey.stringKey("backstop.error_id");

    private OpenTelemetryBridge() {
    }

    static Object capture() {
        Context current = Context.current();
        return current == Context.root() ? null : current;
    }

    static AutoCloseable attach(Object context) {
        return ((Context) context).makeCurrent();
    }

    static Object root() {
        return Context.root();
    }

    static Object captureOrRoot() {
        return Context.current();
    }

    static AutoCloseable attachUnlessSameTrace(Object context) {
        SpanContext current = Span.current().getSpanContext();
        SpanContext own = Span.fromContext((Context) context).getSpanContext();
        if (current.isValid() ? own.isValid() && own.getTraceId().equals(current.getTraceId()) : !own.isValid()) {
            return null; // the same trace (likely a span inside the captured one), or no span on either side
        }
        return ((Context) context).makeCurrent();
    }

    static void recordPanic(Throwable failure, String errorId) {
        Span span = Span.current();
        if (!span.getSpanContext().isValid()) {
            return;
        }
        span.recordException(failure, Attributes.of(ERROR_ID, errorId));
        span.setStatus(StatusCode.ERROR, "panic errorId=" + errorId);
    }

    static String[] currentIds() {
        SpanContext context = Span.current().getSpanContext();
        return context.isValid() ? new String[] {context.getTraceId(), context.getSpanId()} : null;
    }
}
