package dev.backstop.internal.tasks;

import java.util.Optional;

/** Where a group was opened: the first stack frame outside Backstop, for the leak report. */
final class OpenSite {

    private static final StackWalker WALKER = StackWalker.getInstance();

    private OpenSite() {
    }

    static String find() {
        try {
            Optional<StackWalker.StackFrame> caller = WALKER.walk(frames -> frames
                    .filter(frame -> !isBackstop(frame.getClassName()))
                    .findFirst());
            return caller.map(frame -> frame.toStackTraceElement().toString()).orElse("an unknown place");
        } catch (RuntimeException unavailable) {
            return "an unknown place";
        }
    }

    private static boolean isBackstop(String className) {
        return className.startsWith("dev.backstop.internal.") || className.equals("dev.backstop.ChildTasks")
                || className.startsWith("dev.backstop.ChildTasks$");
    }
}
