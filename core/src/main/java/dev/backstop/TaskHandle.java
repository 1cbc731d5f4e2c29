package dev.backstop;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;

/**
 * A task started with {@link ChildTasks#submit(java.util.concurrent.Callable)}: its result once the group has been
 * waited for, in the spirit of {@code StructuredTaskScope.Subtask}. After a successful {@link ChildTasks#await()}
 * every handle is {@link State#SUCCESS}, and {@link #get()} returns its value with no checked exception to catch:
 * <pre>{@code
 * TaskHandle<Price> price = tasks.submit("price", () -> prices.load(id));
 * TaskHandle<Stock> stock = tasks.submit("stock", () -> inventory.load(id));
 * tasks.await();                                  // ChildTaskException if either failed
 * render(response, price.get(), stock.get());
 * }</pre>
 * For code that wants a {@link Future} or a {@link CompletionStage}, {@link #toFuture()} and
 * {@link #toCompletionStage()} give one. Reading a failure (through {@link #exception()}, the future or the stage)
 * counts as observing it. Thread-safe.
 *
 * @param <T> the type of the task's result
 */
public interface TaskHandle<T> {

    /** Where a task stands. */
    enum State {
        /** Not finished yet (or never started: its group's cap or executor may still start it). */
        RUNNING,
        /** Returned a value. */
        SUCCESS,
        /** Threw: {@link #exception()} says what. */
        FAILED,
        /** Never ran to completion because its group, or its future, was cancelled. */
        CANCELLED
    }

    /**
     * Returns the task's name.
     *
     * @return the task's name, as in logs
     */
    String name();

    /**
     * Returns where the task stands now.
     *
     * @return where the task stands now
     */
    State state();

    /**
     * Returns the task's value, once it has succeeded.
     *
     * @return the task's value
     * @throws IllegalStateException when the task has not succeeded (not finished, failed or cancelled); for a
     *     failed task its failure is the cause
     */
    T get();

    /**
     * Returns what the task threw; reading it counts as observing the failure.
     *
     * @return what the task threw, when it {@link State#FAILED}; else null
     */
    Throwable exception();

    /**
     * Returns the task as a {@link Future}.
     *
     * @return a {@link Future} of the task: {@code get()} waits for it, {@code cancel(true)} interrupts it if it is
     *     running (the rest of the group goes on)
     */
    Future<T> toFuture();

    /**
     * Returns the task as a {@link CompletionStage}.
     *
     * @return a stage that completes when the task does, with its value or its failure
     */
    CompletionStage<T> toCompletionStage();
}
