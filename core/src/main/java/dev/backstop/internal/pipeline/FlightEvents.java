package dev.backstop.internal.pipeline;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The event types behind {@link Flight}; loaded only when the runtime has {@code jdk.jfr}. */
final class FlightEvents {

    private FlightEvents() {
    }

    /** A panic, as logged: its error id (findable in the log), where and what. */
    @Name("dev.backstop.Panic")
    @Label("Backstop Panic")
    @Category("Backstop")
    @Description("A throwable Backstop reported as a panic (or a fatal error): the error id is the one in its log line "
            + "and in the client's 500.")
    @StackTrace(false)
    static final class PanicEvent extends Event {
        @Label("Error Id")
        String errorId;
        @Label("Source")
        String source;
        @Label("Exception")
        String exception;
        @Label("Method")
        String method;
        @Label("Path")
        String path;
        @Label("Group")
        String group;
        @Label("Task")
        String task;
        @Label("Fatal")
        boolean fatal;
    }

    /** A child task still running when its group's grace period ran out. */
    @Name("dev.backstop.TaskAbandoned")
    @Label("Backstop Task Abandoned")
    @Category("Backstop")
    @Description("A child task that ignored its interrupt and was still running when its group's grace period ran "
            + "out; it keeps its slot under max-child-tasks until it ends.")
    @StackTrace(false)
    static final class TaskAbandonedEvent extends Event {
        @Label("Group")
        String group;
        @Label("Task")
        String task;
        @Label("Opened At")
        String openedAt;
        @Label("Method")
        String method;
        @Label("Path")
        String path;
    }

    /** A group still open, and not waited for, when its request ended. */
    @Name("dev.backstop.GroupLeaked")
    @Label("Backstop Group Leaked")
    @Category("Backstop")
    @Description("A ChildTasks group still open, and not waited for, when its request ended.")
    @StackTrace(false)
    static final class GroupLeakedEvent extends Event {
        @Label("Group")
        String group;
        @Label("Opened At")
        String openedAt;
        @Label("Method")
        String method;
        @Label("Path")
        String path;
    }

    static void panic(String errorId, Capture where, Throwable thrown, boolean fatal) {
        PanicEvent event = new PanicEvent();
        if (!event.isEnabled()) {
            return;
        }
        event.errorId = errorId;
        event.source = where.source().tag();
        event.exception = thrown.getClass().getName();
        event.method = where.method();
        event.path = where.path();
        event.group = where.group();
        event.task = where.task();
        event.fatal = fatal;
        event.commit();
    }

    static void taskAbandoned(Capture where, String openedAt) {
        TaskAbandonedEvent event = new TaskAbandonedEvent();
        if (!event.isEnabled()) {
            return;
        }
        event.group = where.group();
        event.task = where.task();
        event.openedAt = openedAt;
        event.method = where.method();
        event.path = where.path();
        event.commit();
    }

    static void groupLeaked(String group, String openedAt, String method, String path) {
        GroupLeakedEvent event = new GroupLeakedEvent();
        if (!event.isEnabled()) {
            return;
        }
        event.group = group;
        event.openedAt = openedAt;
        event.method = method;
        event.path = path;
        event.commit();
    }
}
