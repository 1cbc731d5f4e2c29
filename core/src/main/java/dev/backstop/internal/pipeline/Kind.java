package dev.backstop.internal.pipeline;

/** What a failure is: decides what the pipeline records and how a capture point goes on. See {@link Classifier}. */
public enum Kind {
    /** An unexpected failure: logged at ERROR with its stack, counted in {@code backstop.panics}. */
    PANIC,
    /** A {@link VirtualMachineError} other than {@link StackOverflowError}: recorded like a panic, then rethrown. */
    FATAL,
    /** The client went away: not a panic, no stack, counted in {@code backstop.client.aborts}. */
    CLIENT_ABORT,
    /** {@link dev.backstop.AbortRequestException}: a deliberate, quiet abort. */
    ABORT_REQUESTED,
    /** A checked exception from a task whose result someone can read: Go's {@code error}, not a panic. */
    CHECKED,
    /** A task's reaction to being cancelled (an interrupt): neither a failure nor a panic. */
    INTERRUPTED;

    /** @return whether the pipeline logs and counts this kind as a panic */
    public boolean isPanic() {
        return this == PANIC || this == FATAL;
    }
}
