package dev.backstop.internal.pipeline;

/**
 * JDK Flight Recorder events for what an incident's recording should show beside GC, locks and I/O: every panic,
 * abandoned task and leaked group, with its error id, source, exception and path. Events are only made when a
 * recording enables them (the check is a field read); on a JDK without the {@code jdk.jfr} module (a trimmed
 * runtime image) there are none, and nothing fails. Stateless, but for whether the module is there.
 */
final class Flight {

    /** Whether {@code jdk.jfr} is in this runtime; decided once. */
    private static final boolean AVAILABLE = available();

    private Flight() {
    }

    private static boolean available() {
        try {
            Class.forName("jdk.jfr.Event", false, Flight.class.getClassLoader());
            return true;
        } catch (Throwable absent) {
            return false;
        }
    }

    static void panic(String errorId, Capture where, Throwable thrown, boolean fatal) {
        if (AVAILABLE) {
            try {
                FlightEvents.panic(errorId, where, thrown, fatal);
            } catch (Throwable recorderFailed) {
                // A recording is a convenience: it never costs the failure its report.
            }
        }
    }

    static void taskAbandoned(Capture where, String openedAt) {
        if (AVAILABLE) {
            try {
                FlightEvents.taskAbandoned(where, openedAt);
            } catch (Throwable recorderFailed) {
                // Idem.
            }
        }
    }

    static void groupLeaked(String group, String openedAt, String method, String path) {
        if (AVAILABLE) {
            try {
                FlightEvents.groupLeaked(group, openedAt, method, path);
            } catch (Throwable recorderFailed) {
                // Idem.
            }
        }
    }
}
