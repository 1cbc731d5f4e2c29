package dev.backstop;

import dev.backstop.internal.tasks.RequestContext;
import dev.backstop.internal.tasks.TaskGroup;
import jakarta.servlet.ServletRequest;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;

/**
 * Request-scoped, guarded child work: Go's {@code errgroup} for servlets, without its gaps. Every task runs in its
 * own thread under a guard that catches whatever it throws, so no failure reaches a thread's uncaught handler or
 * disappears into an unread future.
 * <pre>{@code
 * try (ChildTasks tasks = ChildTasks.open(request)) {
 *     TaskHandle<Price> price = tasks.submit("price", () -> prices.load(id));
 *     tasks.go("audit", () -> audit.record(id));
 *     tasks.await();                       // throws ChildTaskException if any task failed
 *     render(price.get());                 // no checked exception once await() returned
 * }
 * }</pre>
 *
 * <p><b>The rules.</b>
 * <ul>
 *   <li>An <b>unchecked</b> throwable ({@code RuntimeException}, {@code Error}) is a panic: logged at once in the
 *       task's thread (one ERROR event with error id, request method and path, group and task name, stack) and
 *       counted in {@code backstop.panics{source=child}}. It also fails the group.</li>
 *   <li>A <b>checked</b> exception is an ordinary error, like Go's {@code error}: it fails the group and is handed
 *       to {@link #await()}, {@link #completion()} and the task's future; it is logged (WARN) only if nobody
 *       observed it by the time the group closes.</li>
 *   <li>{@link #await()} throws {@link ChildTaskException} with the first failure as cause and the others as
 *       suppressed. When it reaches {@link RecoveryFilter}, the panic is not logged again and the 500 carries the
 *       child's error id.</li>
 *   <li>Default policy: wait for every task. {@link Builder#failFast()}: the first failure cancels the group.
 *       {@link Builder#timeout(Duration)}: the group is cancelled at the deadline and {@link #await()} throws at
 *       once. Cancelling interrupts running tasks; tasks not started yet never start. Both are counted as
 *       {@code cancelled}. {@link #cancellation()} says why a group was cancelled, as Go's {@code context.Cause}
 *       does.</li>
 *   <li>A deadline is a deadline: {@link #close()} waits for cancelled tasks at most the
 *       {@linkplain Builder#gracePeriod(Duration) grace period} (one second by default),
 *       then abandons those that ignore the interrupt (a socket read on a platform thread does): each is logged at
 *       WARN and counted as {@code abandoned}, keeps its slot under the application-wide cap until it ends, and
 *       what it throws then is still logged. So a request that waits for its group never takes longer than
 *       timeout + grace period, on any JDK and any executor.</li>
 *   <li>A request thread goes back to its container without an interrupt flag: the handler sees the interrupt
 *       that an interrupted {@code await()} or {@code go()} keeps, and the filter clears it when the dispatch
 *       ends (a DEBUG line).</li>
 *   <li>The request object never reaches a task. The method, path and SLF4J MDC are captured when the group opens
 *       and installed in each task's thread while it runs; the thread is named {@code group/task (backstop)}.
 *       Every line about the group (leaks, unobserved and late failures) and the callbacks of
 *       {@link #completion()} get the same MDC, whichever thread runs them. Never touch the request or response
 *       from a task: containers recycle them.</li>
 *   <li>When the request ends (the filter returns, or the async cycle completes, times out or fails), a group that
 *       was neither closed nor fully waited for is closed, its tasks cancelled, and it is logged once at WARN as a
 *       leak naming where it was opened, and counted in {@code backstop.leaked.groups}.</li>
 * </ul>
 *
 * <p>Requires {@link RecoveryFilter} in front of the request (for the REQUEST and ASYNC dispatcher types). Tasks
 * run on the executor of the filter's {@link Backstop}: a virtual thread per task on Java 21+, a pool of platform
 * threads on Java 17, under an application-wide cap ({@link Backstop#DEFAULT_MAX_CHILD_TASKS}).
 *
 * <p>Thread-safe: tasks may start siblings, and any thread may cancel. Costs: opening a group captures the MDC and
 * walks a few stack frames (a microsecond or two); each task is one small object plus the executor's hand-off.
 */
public final class ChildTasks implements AutoCloseable {

    /** The name of a group that was given none. */
    public static final String DEFAULT_NAME = "tasks";

    /** Default of {@link Builder#gracePeriod(Duration)}: one second. */
    public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(1);

    /** A task body: a lambda that may throw any exception. */
    @FunctionalInterface
    public interface Task {
        /**
         * Does the task's work.
         *
         * @throws Exception any failure; the class rules say what becomes of a checked and an unchecked one
         */
        void run() throws Exception;
    }

    private final TaskGroup group;

    private ChildTasks(TaskGroup group) {
        this.group = group;
    }

    /**
     * Opens a group with the default policy (wait for all, no limit, no timeout). Call it in the servlet's dispatch,
     * on the request's own thread (in an async request, also later).
     *
     * @param request the request the group belongs to
     * @return the open group
     * @throws NullPointerException if {@code request} is null
     * @throws IllegalStateException when no {@link RecoveryFilter} saw this request, or the request has ended
     */
    public static ChildTasks open(ServletRequest request) {
        return builder(request).open();
    }

    /**
     * Starts the options of a group for {@code request}; {@link Builder#open()} opens it.
     *
     * @param request the request the group belongs to
     * @return a builder for a group with a name, fail-fast, a limit or a timeout
     * @throws NullPointerException if {@code request} is null
     */
    public static Builder builder(ServletRequest request) {
        return new Builder(Objects.requireNonNull(request, "request cannot be null"));
    }

    /**
     * Runs detached work that may outlive the request (an audit write after the response, say): not cancelled
     * when the request ends, guarded like a child task, and every failure, checked or not, is logged and counted in
     * {@code backstop.panics{source=background}}, since nobody else can observe it. Closing the {@link Backstop} (for
     * a filter that built its own, {@link RecoveryFilter#destroy()}) waits for background tasks for a grace period,
     * then interrupts them.
     *
     * @param request the request whose filter, MDC, method and path the task takes; the task never sees it
     * @param name the task's name, for logs and the thread
     * @param task the work
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws RejectedExecutionException when the application-wide cap is reached
     * @throws IllegalStateException when no {@link RecoveryFilter} saw this request, or the request has ended
     */
    public static void background(ServletRequest request, String name, Task task) {
        Objects.requireNonNull(request, "request cannot be null");
        checkName(name, "name");
        Callable<Void> body = callable(task);
        RequestContext context = RequestContext.existing(request);
        if (context == null) {
            throw new IllegalStateException("ChildTasks.background needs a request that dev.backstop.RecoveryFilter "
                    + "guards and that has not ended, and this one is not: map RecoveryFilter for the REQUEST and ASYNC "
                    + "dispatcher types");
        }
        context.background(request, name, body);
    }

    /**
     * Starts a task, named {@code task-N}. With a {@link Builder#limit(int) limit}, waits for a slot first. In a
     * cancelled group the task never starts and is counted as cancelled.
     *
     * @param task the work
     * @throws NullPointerException if {@code task} is null
     * @throws IllegalStateException after {@link #close()}
     * @throws RejectedExecutionException when the application-wide cap is reached; counted as rejected
     */
    public void go(Task task) {
        group.start(null, callable(task), false);
    }

    /**
     * Like {@link #go(Task)}, with a name for logs and the thread.
     *
     * @param name the task's name
     * @param task the work
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws IllegalStateException after {@link #close()}
     * @throws RejectedExecutionException when the application-wide cap is reached; counted as rejected
     */
    public void go(String name, Task task) {
        group.start(checkName(name, "name"), callable(task), false);
    }

    /**
     * Starts a task only if it can start now: returns false, without waiting or throwing, when the group's limit is
     * reached, the group is cancelled or closed, or the application-wide cap is reached.
     *
     * @param task the work
     * @return whether the task started
     * @throws NullPointerException if {@code task} is null
     */
    public boolean tryGo(Task task) {
        return group.start(null, callable(task), true) != null;
    }

    /**
     * Like {@link #tryGo(Task)}, with a name.
     *
     * @param name the task's name
     * @param task the work
     * @return whether the task started
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public boolean tryGo(String name, Task task) {
        return group.start(checkName(name, "name"), callable(task), true) != null;
    }

    /**
     * Starts a task that returns a value, and returns its handle: after a successful {@link #await()},
     * {@link TaskHandle#get()} gives the value with no checked exception to catch. Its failure is also the group's;
     * reading it through the handle counts as observing it. Waits for a slot like {@link #go(Task)}, and throws as it
     * does.
     *
     * @param <T> the type of the task's result
     * @param task the work
     * @return the task's handle
     * @throws NullPointerException if {@code task} is null
     * @throws IllegalStateException after {@link #close()}
     * @throws RejectedExecutionException when the application-wide cap is reached; counted as rejected
     */
    public <T> TaskHandle<T> submit(Callable<T> task) {
        return group.<T>start(null, Objects.requireNonNull(task, "task cannot be null"), false);
    }

    /**
     * Like {@link #submit(Callable)}, with a name.
     *
     * @param <T> the type of the task's result
     * @param name the task's name
     * @param task the work
     * @return the task's handle
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws IllegalStateException after {@link #close()}
     * @throws RejectedExecutionException when the application-wide cap is reached; counted as rejected
     */
    public <T> TaskHandle<T> submit(String name, Callable<T> task) {
        return group.<T>start(checkName(name, "name"), Objects.requireNonNull(task, "task cannot be null"), false);
    }

    /**
     * Waits for every task started so far (and any they start). Returns normally when all ran to success.
     *
     * @throws ChildTaskException when a task failed (cause: the first failure; suppressed: the others), the
     *     timeout passed (cause: {@code TimeoutException}; returns at the deadline, while interrupted tasks stop),
     *     the group was cancelled before every task completed (cause: {@code CancellationException}), or the
     *     waiting thread was interrupted (cause: {@code InterruptedException}; the group is cancelled and the
     *     thread's interrupt flag set again)
     * @throws IllegalStateException when called from one of the group's own tasks, which would wait for itself
     */
    public void await() {
        group.await();
    }

    /**
     * A stage that completes when every task has finished (or the timeout passed), normally or exceptionally with
     * the same {@link ChildTaskException} that {@link #await()} would throw. This is how an async servlet uses the
     * group without blocking a container thread. The stage completes on the thread of the last task to finish, or,
     * when the timeout fires, on a thread of a small pool of Backstop's own (never behind the tasks on the child-task
     * executor), with the request's MDC: keep callbacks short, or use the {@code *Async} variants.
     * <pre>{@code
     * AsyncContext async = request.startAsync();
     * ChildTasks tasks = ChildTasks.open(request);
     * tasks.go(...); tasks.go(...);
     * tasks.completion().whenComplete((ok, failure) -> {
     *     if (failure != null) {
     *         RecoveryFilter.fail(async, failure);   // 500 with the child's error id
     *     } else {
     *         write(async.getResponse());
     *         async.complete();
     *     }
     * });
     * }</pre>
     *
     * @return a stage that completes when the group is done, exceptionally with a {@link ChildTaskException}
     */
    public CompletionStage<Void> completion() {
        return group.completion();
    }

    /**
     * Tells whether the group was cancelled.
     *
     * @return whether the group was cancelled: by fail-fast, its timeout, {@link #cancel()}, an interrupt, the end of
     *     its request, or {@link #close()} (a closed group is done, as errgroup's context is after {@code Wait})
     */
    public boolean isCancelled() {
        return group.isCancelled();
    }

    /**
     * Why the group was cancelled, Go's {@code context.Cause}: empty while it is not; else the first reason, with the
     * failure that cancelled a fail-fast group, or the reason given to {@link #cancel(String)}.
     * <pre>{@code
     * tasks.cancellation().ifPresent(c -> log.info("gave up: {}", c));   // e.g. TIMEOUT, FAIL_FAST
     * }</pre>
     *
     * @return why the group was cancelled, or empty while it is not
     */
    public Optional<Cancellation> cancellation() {
        TaskGroup.Reason reason = group.cancelReason();
        if (reason == null) {
            return Optional.empty();
        }
        Cancellation.Reason shown = switch (reason) {
            case FAILURE -> Cancellation.Reason.FAIL_FAST;
            case TIMEOUT -> Cancellation.Reason.TIMEOUT;
            case INTERRUPT -> Cancellation.Reason.INTERRUPTED;
            case CANCEL -> Cancellation.Reason.CANCELLED;
            case CLOSE -> Cancellation.Reason.CLOSED;
            case REQUEST_END -> Cancellation.Reason.REQUEST_ENDED;
        };
        return Optional.of(new Cancellation(shown, group.cancelCause()));
    }

    /** Cancels the group: running tasks are interrupted, tasks not started yet never start. */
    public void cancel() {
        group.cancel(null);
    }

    /**
     * Like {@link #cancel()}, saying why: {@link #cancellation()} then carries a {@code CancellationException} with
     * {@code reason} as its message. Only the first cancel of a group counts.
     *
     * @param reason why the group is cancelled, in words
     * @throws NullPointerException if {@code reason} is null
     */
    public void cancel(String reason) {
        group.cancel(Objects.requireNonNull(reason, "reason cannot be null"));
    }

    /**
     * Cancels unfinished tasks, waits for them to stop for at most the {@linkplain Builder#gracePeriod(Duration)
     * grace period}, and logs checked failures nobody observed. A task still running then ignored its interrupt: it
     * is abandoned (logged at WARN, counted as {@code abandoned}, its slot under the application-wide cap kept until
     * it ends, what it throws then still logged), so that close() never holds the request longer than the grace
     * period. After it, {@code go} throws {@link IllegalStateException} and {@link #isCancelled()} is true.
     * Idempotent.
     *
     * @throws IllegalStateException when called from one of the group's own tasks, which would wait for itself
     */
    @Override
    public void close() {
        group.close();
    }

    /**
     * Returns the group's name.
     *
     * @return the group's name
     */
    public String name() {
        return group.name();
    }

    @Override
    public String toString() {
        return group.toString();
    }

    private static Callable<Void> callable(Task task) {
        Objects.requireNonNull(task, "task cannot be null");
        return () -> {
            task.run();
            return null;
        };
    }

    private static String checkName(String name, String what) {
        Objects.requireNonNull(name, what + " cannot be null");
        if (name.isBlank()) {
            throw new IllegalArgumentException(what + " cannot be blank, but was '" + name + "'");
        }
        return name;
    }

    /**
     * Why a group was cancelled, and what cancelled it: Go's {@code context.Cause}. Immutable and thread-safe.
     */
    public static final class Cancellation {

        /** Who cancelled the group. */
        public enum Reason {
            /** A task failed in a {@link Builder#failFast() fail-fast} group; the cause is its failure. */
            FAIL_FAST,
            /** The {@link Builder#timeout(Duration) timeout} passed; the cause is a {@code TimeoutException}. */
            TIMEOUT,
            /**
             * The handler called {@link #cancel()} or {@link #cancel(String)}; the cause is a
             * {@code CancellationException} whose message is the reason given.
             */
            CANCELLED,
            /**
             * The thread waiting in {@link #await()}, or for a slot in {@code go}, was interrupted; the cause is an
             * {@code InterruptedException}.
             */
            INTERRUPTED,
            /** The request ended with the group still open (a leak); the cause is a {@code CancellationException}. */
            REQUEST_ENDED,
            /** {@link #close()}, after everything else went well; the cause is a {@code CancellationException}. */
            CLOSED
        }

        private final Reason reason;
        private final Throwable cause;

        Cancellation(Reason reason, Throwable cause) {
            this.reason = reason;
            this.cause = cause;
        }

        /**
         * Returns who cancelled the group.
         *
         * @return who cancelled the group
         */
        public Reason reason() {
            return reason;
        }

        /**
         * Returns what cancelled the group.
         *
         * @return what cancelled it: see {@link Reason}; never null
         */
        public Throwable cause() {
            return cause;
        }

        @Override
        public String toString() {
            return reason + ": " + cause.getMessage();
        }
    }

    /**
     * Options for a group. Not thread-safe; the options are fixed when {@link #open()} is called, and the builder
     * refuses changes after that.
     */
    public static final class Builder {

        private final ServletRequest request;
        private String name = DEFAULT_NAME;
        private boolean failFast;
        private int limit;
        private Duration timeout;
        private Duration gracePeriod = DEFAULT_GRACE_PERIOD;
        private boolean opened;

        private Builder(ServletRequest request) {
            this.request = request;
        }

        /**
         * The group's name, in logs, thread names and leak reports. Default {@value ChildTasks#DEFAULT_NAME}.
         *
         * @param name the group's name; not blank
         * @return this builder
         * @throws NullPointerException if {@code name} is null
         * @throws IllegalArgumentException if {@code name} is blank
         * @throws IllegalStateException after {@link #open()}
         */
        public Builder name(String name) {
            checkOpen();
            this.name = checkName(name, "name");
            return this;
        }

        /**
         * The first failure cancels the group, like {@code errgroup.WithContext}. Default: wait for all.
         *
         * @return this builder
         * @throws IllegalStateException after {@link #open()}
         */
        public Builder failFast() {
            checkOpen();
            this.failFast = true;
            return this;
        }

        /**
         * At most {@code limit} tasks of this group run at once; {@code go} waits for a slot, like {@code SetLimit}.
         *
         * @param limit the most tasks of this group that run at once; at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code limit} is less than 1
         * @throws IllegalStateException after {@link #open()}
         */
        public Builder limit(int limit) {
            checkOpen();
            if (limit < 1) {
                throw new IllegalArgumentException("limit must be at least 1, but was " + limit);
            }
            this.limit = limit;
            return this;
        }

        /**
         * Cancels the group when {@code timeout} has passed since {@link #open()}.
         *
         * @param timeout the time the group has; positive
         * @return this builder
         * @throws NullPointerException if {@code timeout} is null
         * @throws IllegalArgumentException if {@code timeout} is zero or negative
         * @throws IllegalStateException after {@link #open()}
         */
        public Builder timeout(Duration timeout) {
            checkOpen();
            Objects.requireNonNull(timeout, "timeout cannot be null");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, but was " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * How long {@link ChildTasks#close()} (and the end of the request, for a group left open) waits for cancelled
         * tasks to stop before abandoning those that ignore the interrupt. Zero abandons them at once. Default
         * {@link ChildTasks#DEFAULT_GRACE_PERIOD} (1 s). With a {@link #timeout(Duration) timeout}, a request that
         * waits for its group ends within timeout + grace period, whatever its tasks do.
         *
         * @param gracePeriod how long to wait for cancelled tasks; zero or more
         * @return this builder
         * @throws NullPointerException if {@code gracePeriod} is null
         * @throws IllegalArgumentException if {@code gracePeriod} is negative
         * @throws IllegalStateException after {@link #open()}
         */
        public Builder gracePeriod(Duration gracePeriod) {
            checkOpen();
            Objects.requireNonNull(gracePeriod, "gracePeriod cannot be null");
            if (gracePeriod.isNegative()) {
                throw new IllegalArgumentException("gracePeriod cannot be negative, but was " + gracePeriod);
            }
            this.gracePeriod = gracePeriod;
            return this;
        }

        /**
         * Opens the group.
         *
         * @return the open group; its options are fixed from now on
         * @throws IllegalStateException when no {@link RecoveryFilter} saw this request, or the request has ended, or
         *     the group was opened already
         */
        public ChildTasks open() {
            checkOpen();
            RequestContext context = RequestContext.existing(request);
            if (context == null) {
                throw new IllegalStateException("ChildTasks needs a request that dev.backstop.RecoveryFilter guards "
                        + "and that has not ended, and this one is not: map RecoveryFilter to the same URL patterns for "
                        + "the REQUEST and ASYNC dispatcher types (web.xml <filter-mapping>, @WebFilter, or "
                        + "ServletContext.addFilter), and open groups while the request is in progress");
            }
            opened = true;
            return new ChildTasks(TaskGroup.open(context, request, name, failFast, limit, timeout, gracePeriod,
                    ChildTaskException::new));
        }

        private void checkOpen() {
            if (opened) {
                throw new IllegalStateException("the options of group '" + name + "' are fixed once it is open");
            }
        }
    }
}
