package dev.backstop.internal.tasks;

/**
 * Where a group was opened: the first stack frame outside Backstop, for the leak report. The walk stops at that frame
 * (a few frames deep), and the frame is turned into text only when a report needs it: most groups close properly and
 * never do. Thread-safe.
 */
final class OpenSite {

    private static final StackWalker WALKER = StackWalker.getInstance();
    private static final String UNKNOWN = "an unknown place";

    private final StackWalker.StackFrame frame;
    private volatile String text;

    private OpenSite(StackWalker.StackFrame frame) {
        this.frame = frame;
    }

    static OpenSite find() {
        try {
            return new OpenSite(WALKER.walk(frames -> frames
                    .filter(frame -> !isBackstop(frame.getClassName()))
                    .findFirst()
                    .orElse(null)));
        } catch (RuntimeException unavailable) {
            return new OpenSite(null);
        }
    }

    private static boolean isBackstop(String className) {
        return className.startsWith("dev.backstop.internal.") || className.equals("dev.backstop.ChildTasks")
                || className.startsWith("dev.backstop.ChildTasks$");
    }

    @Override
    public String toString() {
        String current = text;
        if (current == null) {
            try {
                current = frame == null ? UNKNOWN : frame.toStackTraceElement().toString();
            } catch (RuntimeException unavailable) {
                current = UNKNOWN;
            }
            text = current;
        }
        return current;
    }
}
