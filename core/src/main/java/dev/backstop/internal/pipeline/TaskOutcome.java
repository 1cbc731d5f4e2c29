package dev.backstop.internal.pipeline;

/** How a child task ended: the {@code outcome} tag of {@code backstop.tasks}. */
public enum TaskOutcome {
    /** Returned normally. */
    SUCCESS("success"),
    /** Threw a checked exception (Go's {@code error}), or a deliberate {@code AbortRequestException}. */
    FAILURE("failure"),
    /** Threw an unchecked exception or an {@code Error}: also counted in {@code backstop.panics}. */
    PANIC("panic"),
    /** Never started because its group was cancelled, or stopped by the interrupt that cancelled it. */
    CANCELLED("cancelled"),
    /** Not started: the application-wide cap was reached or the executor refused it. */
    REJECTED("rejected"),
    /**
     * Still running when its group's grace period ran out (it ignored the interrupt): the group stopped waiting for
     * it. Its final outcome; what it throws later is still logged, and a panic still counted in
     * {@code backstop.panics}.
     */
    ABANDONED("abandoned");

    private final String tag;

    TaskOutcome(String tag) {
        this.tag = tag;
    }

    public String tag() {
        return tag;
    }
}
