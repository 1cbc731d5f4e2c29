package dev.backstop.internal.pipeline;

/** The {@code kind} tag of the task meters. */
public enum TaskKind {
    /** A task of a {@code ChildTasks} group, bounded by its request. */
    SCOPED("scoped"),
    /** A detached task started by {@code ChildTasks.background}. */
    BACKGROUND("background");

    private final String tag;

    TaskKind(String tag) {
        this.tag = tag;
    }

    public String tag() {
        return tag;
    }
}
