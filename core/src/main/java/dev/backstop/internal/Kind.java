package dev.backstop.internal;

/** What a failure is, which decides what the pipeline records and how the filter answers. */
public enum Kind {
    /** An unexpected failure: logged at ERROR with its stack, counted in {@code backstop.panics}. */
    PANIC,
    /** A {@link VirtualMachineError} other than {@link StackOverflowError}: recorded like a panic, then rethrown. */
    FATAL,
    /** The client went away: not a panic, no stack, counted in {@code backstop.client.aborts}. */
    CLIENT_ABORT,
    /** The handler threw {@link dev.backstop.AbortRequestException}: a deliberate, quiet abort. */
    ABORT_REQUESTED
}
