package dev.backstop.internal.pipeline;

/**
 * OpenTelemetry, when the application has its API (the Java agent's users do): a panic is recorded on the current
 * span (an {@code exception} event, status ERROR), its log line names the trace and span, and work Backstop runs for
 * the application carries the OpenTelemetry {@code Context} of the code that started it, as it carries the MDC.
 * Without the API nothing of it is loaded: the check is made once, by name, and {@link OpenTelemetryBridge}, the one
 * class that names OpenTelemetry types, is only touched when it is there. Every call is safe: an API that fails (an
 * older or broken one) costs the report nothing. Stateless, but for whether the API is there.
 */
public final class Tracing {

    private static final boolean PRESENT = present();

    private Tracing() {
    }

    private static boolean present() {
        try {
            ClassLoader loader = Tracing.class.getClassLoader();
            Class.forName("io.opentelemetry.api.trace.Span", false, loader);
            Class.forName("io.opentelemetry.context.Context", false, loader);
            return true;
        } catch (Throwable absent) {
            return false;
        }
    }

    /** @return whether the OpenTelemetry API is on the class path */
    public static boolean available() {
        return PRESENT;
    }

    /** @return the current OpenTelemetry {@code Context}, to carry into work started now; null without the API */
    static Object capture() {
        if (!PRESENT) {
            return null;
        }
        try {
            return OpenTelemetryBridge.capture();
        } catch (Throwable broken) {
            return null;
        }
    }

    /** @return OpenTelemetry's root {@code Context}; null without the API */
    static Object root() {
        if (!PRESENT) {
            return null;
        }
        try {
            return OpenTelemetryBridge.root();
        } catch (Throwable broken) {
            return null;
        }
    }

    /** @return the current OpenTelemetry {@code Context}, the root one included; null without the API */
    static Object captureOrRoot() {
        if (!PRESENT) {
            return null;
        }
        try {
            return OpenTelemetryBridge.captureOrRoot();
        } catch (Throwable broken) {
            return null;
        }
    }

    /** Makes {@code context} (from {@link #capture()}) current; closing the result puts back what was. */
    static AutoCloseable attach(Object context) {
        if (context == null) {
            return null;
        }
        try {
            return OpenTelemetryBridge.attach(context);
        } catch (Throwable broken) {
            return null;
        }
    }

    /**
     * Like {@link #attach}, unless the current thread is already in the same trace (a span the handler opened inside
     * the captured one is more precise, so it stays), or neither has a span (the thread's own context stays). A thread
     * in another trace (another request's thread, which handed this request's failure over) gets the captured
     * context, a span-less one included, so that the failure is recorded in its own request's trace, or in none when
     * that request was not traced, and never on the other's span.
     */
    static AutoCloseable attachUnlessSameTrace(Object context) {
        if (context == null) {
            return null;
        }
        try {
            return OpenTelemetryBridge.attachUnlessSameTrace(context);
        } catch (Throwable broken) {
            return null;
        }
    }

    static void detach(AutoCloseable scope) {
        if (scope != null) {
            try {
                scope.close();
            } catch (Throwable broken) {
                // Nothing to put back with.
            }
        }
    }

    /** Records a panic on the current span: an {@code exception} event with its error id, and status ERROR. */
    static void recordPanic(Throwable failure, String errorId) {
        if (PRESENT) {
            try {
                OpenTelemetryBridge.recordPanic(failure, errorId);
            } catch (Throwable broken) {
                // The span is a convenience; the panic is logged and counted anyway.
            }
        }
    }

    /** @return the current span's trace and span ids, or null when no valid span is current */
    static String[] currentIds() {
        if (!PRESENT) {
            return null;
        }
        try {
            return OpenTelemetryBridge.currentIds();
        } catch (Throwable broken) {
            return null;
        }
    }

    /** @return the current span's trace id, or null when no valid span is current (or no API) */
    public static String currentTraceId() {
        String[] ids = currentIds();
        return ids == null ? null : ids[0];
    }
}
