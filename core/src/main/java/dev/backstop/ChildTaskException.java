package dev.backstop;

/**
 * What {@link ChildTasks#await()} throws, and what {@link ChildTasks#completion()} completes with, when a group did
 * not run to success. The cause says why:
 * <ul>
 *   <li>the first task failure, in the order tasks finished; the other failures are attached as suppressed (at
 *       most sixteen; the message gives the total);</li>
 *   <li>a {@link java.util.concurrent.TimeoutException} when the group's timeout passed first;</li>
 *   <li>an {@link InterruptedException} when the waiting thread was interrupted (its interrupt flag is set
 *       again);</li>
 *   <li>a {@link java.util.concurrent.CancellationException} when the group was cancelled and some task did not
 *       run to completion.</li>
 * </ul>
 * A child's panic (an unchecked failure of a task) in the cause was logged and counted when it happened, in the
 * task's thread; when this exception reaches {@link RecoveryFilter}, it is not logged or counted again, and the 500
 * carries the same error id as {@link #errorId()}.
 *
 * <p>Created by Backstop only. Thread-safe once thrown: its error id is fixed when it is created.
 */
public class ChildTaskException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The error id of the child panic in the cause, or null; part of the serialized form. */
    private final String errorId;

    ChildTaskException(String message, Throwable cause, String errorId) {
        super(message, cause);
        this.errorId = errorId;
    }

    /**
     * Returns the error id of the child panic in the cause, if it is one.
     *
     * @return the error id under which the cause was logged as a child panic (the id the 500 carries), or null
     *     when the cause is not a panic: a checked failure, a timeout, an interrupt or a cancellation
     */
    public String errorId() {
        return errorId;
    }
}
