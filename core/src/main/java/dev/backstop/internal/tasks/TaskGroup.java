package dev.backstop.internal.tasks;

import dev.backstop.TaskHandle;
import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Pipeline;
import dev.backstop.internal.pipeline.TaskKind;
import dev.backstop.internal.pipeline.TaskOutcome;
import dev.backstop.internal.pipeline.Texts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine behind {@link dev.backstop.ChildTasks}: admission (group limit, application cap), cancellation
 * (fail-fast, timeout, interrupt, close), the failures of the group, and the waiters of {@code await()},
 * {@code completion()} and futures.
 *
 * <p>One lock guards the state; nothing blocks while holding it except waits on its condition, and interrupts,
 * reports and completions of waiters happen after it is released. Thread-safe.
 */
public final class TaskGroup {

    /** Failures kept for {@code await()} besides the first: the rest are counted, not kept. */
    public static final int MAX_SUPPRESSED = 16;

    /** Builds the exception {@code await()} throws; the public type lives in the API package. */
    @FunctionalInterface
    public interface ExceptionFactory {
        RuntimeException create(String message, Throwable cause, String errorId);
    }

    private static final int SPINS = Runtime.getRuntime().availableProcessors() > 1 ? 64 : 0;

    /** Why a group was cancelled; the first reason wins. */
    public enum Reason {
        /** A task failed in a fail-fast group. */
        FAILURE,
        /** The group's timeout passed. */
        TIMEOUT,
        /** The thread in {@code await()} or waiting for a slot in {@code go()} was interrupted. */
        INTERRUPT,
        /** The application called {@code cancel()}. */
        CANCEL,
        /** The group was closed. */
        CLOSE,
        /** The request ended with the group still open. */
        REQUEST_END
    }

    private final TaskRuntime runtime;
    private final RequestContext request;
    private final Guard.Context context;
    private final String name;
    private final boolean failFast;
    private final int limit;
    private final Duration timeout;
    private final Duration grace;
    private final long deadline;
    private final OpenSite openedAt;
    private final ExceptionFactory exceptions;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    // Guarded by lock.
    // The tasks admitted and not finished, for cancel(): an intrusive list through TaskRun, so that starting and
    // finishing a task neither allocates a node nor computes an identity hash.
    private TaskRun<?> live;
    private int pending;
    // Threads waiting on `changed`, by what they wait for: a finishing task wakes only those it can help, so that
    // a group of 500 tasks does not wake its waiter 500 times.
    private int slotWaiters;
    private int doneWaiters;
    private int runWaiters;
    private int started;
    private int sequence;
    private int cancelledTasks;
    private int failures;
    private Throwable first;
    private String firstErrorId;
    // Made when a second failure, or a checked one, needs them: most groups never fail.
    private List<Throwable> kept;
    private List<TaskRun<?>> unobserved;
    private int unobservedNotKept;
    private Reason cancelled;
    // What the cancel was about: the failure of a fail-fast group, or the reason given to cancel(String).
    private Throwable cancelFailure;
    private String cancelNote;
    private Throwable cancelCause;
    private int abandonedTasks;
    private boolean timedOut;
    private boolean closed;
    private boolean settled;
    private RuntimeException outcome;
    private boolean outcomeStale;
    private List<CompletableFuture<Void>> waiters;
    private ScheduledFuture<?> timer;

    TaskGroup(RequestContext request, Guard.Context context, String name, boolean failFast, int limit,
            Duration timeout, Duration grace, OpenSite openedAt, ExceptionFactory exceptions) {
        this.runtime = request.runtime();
        this.request = request;
        this.context = context;
        this.name = name;
        this.failFast = failFast;
        this.limit = limit;
        this.timeout = timeout;
        this.grace = grace;
        this.openedAt = openedAt;
        this.exceptions = exceptions;
        this.deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
    }

    /**
     * Opens a group on {@code servletRequest}, whose context is {@code request}, capturing the request's method and
     * path and the current thread's context (MDC) for its tasks.
     *
     * @param limit at most this many tasks at once, 0 for no group limit
     * @param timeout the group's deadline from now, or null
     * @param grace how long closing the group waits for tasks that ignore the interrupt before it abandons them
     * @throws IllegalStateException when the request has ended
     * @throws java.util.concurrent.RejectedExecutionException when the request's Backstop is closed
     */
    public static TaskGroup open(RequestContext request, jakarta.servlet.ServletRequest servletRequest, String name,
            boolean failFast, int limit, Duration timeout, Duration grace, ExceptionFactory exceptions) {
        request.runtime().checkOpen();
        request.capture(servletRequest);
        Guard.Context context = Guard.capture();
        request.rememberContext(context);
        TaskGroup group = new TaskGroup(request, context, name, failFast, limit, timeout, grace, OpenSite.find(),
                exceptions);
        if (timeout != null) {
            group.armTimer();
        }
        try {
            request.add(group);
        } catch (RuntimeException ended) {
            group.disarmTimer();
            throw ended;
        }
        return group;
    }

    /** A failure a task of this group reported, for its request's report chain. */
    void remember(dev.backstop.internal.pipeline.Report report) {
        request.remember(report);
    }

    private void armTimer() {
        ScheduledFuture<?> scheduled = runtime.schedule(this::onDeadline, timeout);
        lock.lock();
        try {
            if (closed) {
                scheduled.cancel(false);
            } else {
                timer = scheduled;
            }
        } finally {
            lock.unlock();
        }
    }

    private void disarmTimer() {
        lock.lock();
        try {
            closed = true;
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        } finally {
            lock.unlock();
        }
    }

    public String name() {
        return name;
    }

    /**
     * Starts a task, waiting for a slot when the group has a limit.
     *
     * @param tryOnly return null rather than wait for a slot, or throw for a closed group or the cap
     * @return the task (already cancelled when the group was), or null when {@code tryOnly} and it did not start
     */
    public <T> TaskHandle<T> start(String taskName, Callable<T> body, boolean tryOnly) {
        TaskRun<T> run = null;
        Actions actions = null;
        boolean rejected = false;
        boolean interrupted = false;
        lockBriefly();
        try {
            if (closed) {
                if (tryOnly) {
                    return null;
                }
                throw new IllegalStateException("ChildTasks group '" + name + "' is closed; start tasks before "
                        + "close() (or the end of the request)");
            }
            if (cancelled == null && deadline != 0 && System.nanoTime() - deadline >= 0) {
                actions = timeoutLocked();
            }
            while (limit > 0 && pending >= limit && cancelled == null && !closed) {
                if (tryOnly) {
                    return null;
                }
                slotWaiters++;
                try {
                    changed.await();
                } finally {
                    slotWaiters--;
                }
            }
            if (closed) {
                throw new IllegalStateException("ChildTasks group '" + name + "' was closed while a task waited "
                        + "for a slot");
            }
            sequence++;
            String id = taskName != null ? taskName : "task-" + sequence;
            if (cancelled != null) {
                if (tryOnly) {
                    return null;
                }
                started++;
                cancelledTasks++;
                outcomeStale = true;
                run = TaskRun.cancelledBeforeStart(this, name, id);
            } else if (!runtime.admit()) {
                rejected = true;
            } else {
                run = new TaskRun<>(runtime, this, TaskKind.SCOPED, request.method(), request.path(), context, name,
                        id, body);
                linkLive(run);
                pending++;
                started++;
                settled = false;
                outcomeStale = true;
            }
        } catch (InterruptedException e) {
            // The thread waiting for a slot was interrupted: the group is cancelled, the interrupt kept.
            interrupted = true;
            actions = cancelLocked(Reason.INTERRUPT, null);
            started++;
            cancelledTasks++;
            outcomeStale = true;
            run = TaskRun.cancelledBeforeStart(this, name, taskName != null ? taskName : "task-" + sequence);
        } finally {
            lock.unlock();
            after(actions);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (rejected) {
            runtime.pipeline().task(TaskKind.SCOPED, TaskOutcome.REJECTED);
            if (tryOnly) {
                return null;
            }
            throw runtime.capReached();
        }
        if (run.outcome() == TaskOutcome.CANCELLED) {
            runtime.pipeline().task(TaskKind.SCOPED, TaskOutcome.CANCELLED);
            return run;
        }
        try {
            runtime.execute(run);
        } catch (RuntimeException refused) {
            if (!unstart(run)) {
                return run; // cancelled meanwhile, and counted so
            }
            if (tryOnly) {
                return null;
            }
            throw refused instanceof RejectedExecutionException rejection ? rejection
                    : new RejectedExecutionException("backstop: the child-task executor refused the task", refused);
        }
        return run;
    }

    /**
     * Undoes the admission of a task the executor refused. A cancel may have finished the task already (it looked
     * not started): then it was counted as cancelled, and there is nothing left to undo.
     *
     * @return whether the refusal was this call's to report
     */
    private boolean unstart(TaskRun<?> run) {
        if (!run.withdraw()) {
            return false;
        }
        Actions actions = null;
        lock.lock();
        try {
            runtime.release();
            if (run.abandoned) {
                return true; // the group gave up on it already, and counted it
            }
            unlinkLive(run);
            pending--;
            started--;
            outcomeStale = true;
            runtime.pipeline().task(TaskKind.SCOPED, TaskOutcome.REJECTED);
            if (pending == 0) {
                actions = releaseWaitersLocked();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        after(actions);
        return true;
    }

    /** Called once per admitted task, from its own thread or from the thread that cancelled it before it ran. */
    void finished(TaskRun<?> run, TaskOutcome result) {
        Actions actions = null;
        lockBriefly();
        try {
            run.publish(result);
            if (run.abandoned) {
                // The group stopped waiting for it: its outcome was counted then; it only frees its slot now.
                if (runWaiters > 0) {
                    changed.signalAll();
                }
                actions = Actions.lateEnd(run);
            } else {
                actions = finishedLocked(run, result);
            }
        } finally {
            lock.unlock();
        }
        after(actions);
    }

    private Actions finishedLocked(TaskRun<?> run, TaskOutcome result) {
        Actions actions = null;
        unlinkLive(run);
        pending--;
        outcomeStale = true;
        switch (result) {
            case PANIC, FAILURE -> {
                recordFailure(run, result == TaskOutcome.FAILURE);
                if (failFast && cancelled == null) {
                    actions = cancelLocked(Reason.FAILURE, run.failure());
                }
            }
            case CANCELLED -> cancelledTasks++;
            default -> {
                // success: nothing to keep
            }
        }
        // Count and free the application-wide slot before anyone waiting can see the task as finished.
        runtime.release();
        runtime.pipeline().task(TaskKind.SCOPED, result);
        if (pending == 0) {
            actions = Actions.merge(actions, releaseWaitersLocked());
        }
        if ((pending == 0 && doneWaiters > 0) || slotWaiters > 0 || runWaiters > 0) {
            changed.signalAll();
        }
        if (run.hasStage()) {
            actions = Actions.merge(actions, Actions.settle(run));
        }
        return actions;
    }

    private void linkLive(TaskRun<?> run) {
        run.linked = true;
        run.liveNext = live;
        if (live != null) {
            live.livePrev = run;
        }
        live = run;
    }

    private void unlinkLive(TaskRun<?> run) {
        if (!run.linked) {
            return;
        }
        run.linked = false;
        if (run.livePrev != null) {
            run.livePrev.liveNext = run.liveNext;
        } else {
            live = run.liveNext;
        }
        if (run.liveNext != null) {
            run.liveNext.livePrev = run.livePrev;
        }
        run.livePrev = null;
        run.liveNext = null;
    }

    /**
     * Takes the lock for one of the short sections on the hot path (starting and finishing tasks). Those sections
     * last a few hundred nanoseconds, so a thread that finds the lock held spins briefly before it parks: parking
     * and waking a thread costs far more than the wait, and a pool of workers finishing tasks while the request
     * thread starts more would otherwise hand the lock over through the scheduler every time.
     */
    private void lockBriefly() {
        for (int spins = 0; spins < SPINS; spins++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    private void recordFailure(TaskRun<?> run, boolean checked) {
        failures++;
        Throwable failure = run.failure();
        if (first == null) {
            first = failure;
            firstErrorId = run.errorId();
        } else {
            if (kept == null) {
                kept = new ArrayList<>(4);
            }
            if (kept.size() < MAX_SUPPRESSED) {
                kept.add(failure);
            }
        }
        if (checked && !run.observed()) {
            if (unobserved == null) {
                unobserved = new ArrayList<>(2);
            }
            if (unobserved.size() < MAX_SUPPRESSED + 1) {
                unobserved.add(run);
            } else {
                unobservedNotKept++;
                run.countedNotKept = true;
            }
        }
    }

    /** A task's failure was read through its handle: if it was only counted as unobserved, it no longer is. */
    void observed(TaskRun<?> run) {
        lock.lock();
        try {
            if (run.countedNotKept) {
                run.countedNotKept = false;
                unobservedNotKept = Math.max(0, unobservedNotKept - 1);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits for every task; see {@code ChildTasks.await()}. */
    public void await() {
        checkNotInside("await()");
        Actions actions = null;
        RuntimeException result;
        boolean interrupted = false;
        lock.lock();
        try {
            doneWaiters++;
            try {
                while (pending > 0 && !timedOut) {
                    if (deadline == 0) {
                        changed.await();
                        continue;
                    }
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        actions = timeoutLocked();
                        break;
                    }
                    changed.awaitNanos(remaining);
                }
                result = reportLocked();
            } catch (InterruptedException e) {
                interrupted = true;
                actions = cancelLocked(Reason.INTERRUPT, null);
                result = failures > 0 ? reportLocked() : exceptions.create("the thread waiting for group '" + name
                        + "' was interrupted; the group was cancelled",
                        new InterruptedException("interrupted while waiting for group '" + name + "'"), null);
            } finally {
                doneWaiters--;
            }
        } finally {
            lock.unlock();
            after(actions);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (result != null) {
            throw result;
        }
    }

    private void checkNotInside(String what) {
        TaskRun<?> current = TaskRun.current();
        if (current != null && current.group() == this) {
            throw new IllegalStateException(what + " of group '" + name + "' was called from its own task '"
                    + current.name() + "', which would wait for itself forever");
        }
    }

    /** Wakes the readers of futures, after one was cancelled. */
    void signalChange() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** See {@code ChildTasks.completion()}. */
    public CompletionStage<Void> completion() {
        CompletableFuture<Void> stage = new CompletableFuture<>();
        RuntimeException result;
        lock.lock();
        try {
            if (pending > 0 && !timedOut) {
                if (waiters == null) {
                    waiters = new ArrayList<>(1);
                }
                waiters.add(stage);
                return stage;
            }
            result = reportLocked();
        } finally {
            lock.unlock();
        }
        complete(stage, result);
        return stage;
    }

    /** The outcome as {@code await()} and {@code completion()} report it; marks failures observed. */
    private RuntimeException reportLocked() {
        RuntimeException result = outcomeLocked();
        settled = pending == 0 || timedOut;
        if (result != null) {
            unobserved = null;
            unobservedNotKept = 0;
        }
        return result;
    }

    private Actions releaseWaitersLocked() {
        if (waiters == null) {
            return null;
        }
        Actions actions = new Actions();
        actions.complete = waiters;
        actions.outcome = reportLocked();
        waiters = null;
        return actions;
    }

    private RuntimeException outcomeLocked() {
        if (!outcomeStale) {
            return outcome;
        }
        RuntimeException result = null;
        if (failures > 0) {
            String message = failures + " of " + started + " tasks in group '" + name + "' failed; first: "
                    + Texts.escape(Texts.describe(first), Texts.MAX_TEXT);
            int keptCount = kept == null ? 0 : kept.size();
            if (failures > 1) {
                message += "; " + keptCount + " more attached as suppressed";
                if (failures - 1 > keptCount) {
                    message += ", " + (failures - 1 - keptCount) + " not kept";
                }
            }
            result = exceptions.create(message, first, firstErrorId);
            if (kept != null) {
                for (Throwable other : kept) {
                    if (other != result) {
                        result.addSuppressed(other);
                    }
                }
            }
            if (timedOut) {
                result.addSuppressed(timeoutException());
            }
        } else if (timedOut) {
            result = exceptions.create("group '" + name + "' timed out after " + timeout + "; "
                    + (cancelledTasks + abandonedTasks + pending) + " of " + started + " tasks cancelled",
                    timeoutException(), null);
        } else if (cancelledTasks > 0 || abandonedTasks > 0 || (cancelled != null && pending > 0)) {
            // Cancelled as a group, or task by task through their futures.
            String why = cancelled != null ? describeLocked() : "group '" + name + "' had tasks cancelled";
            result = exceptions.create("group '" + name + "' was cancelled (" + why + "); "
                    + (cancelledTasks + abandonedTasks + pending) + " of " + started
                    + " tasks did not run to completion", new CancellationException(why), null);
        }
        outcome = result;
        outcomeStale = false;
        return result;
    }

    private TimeoutException timeoutException() {
        return new TimeoutException("group '" + name + "' did not finish within " + timeout);
    }

    /** @return whether the group was cancelled, or closed */
    public boolean isCancelled() {
        lock.lock();
        try {
            return cancelled != null;
        } finally {
            lock.unlock();
        }
    }

    /** @return why the group was cancelled (the first reason), or null while it is not */
    public Reason cancelReason() {
        lock.lock();
        try {
            return cancelled;
        } finally {
            lock.unlock();
        }
    }

    /**
     * @return what cancelled the group, as Go's {@code context.Cause} gives it, or null while it is not cancelled:
     *     the failure of a fail-fast group; a {@code TimeoutException}; an {@code InterruptedException}; else a
     *     {@code CancellationException} saying who cancelled it (with the reason given to {@code cancel})
     */
    public Throwable cancelCause() {
        lock.lock();
        try {
            if (cancelled == null) {
                return null;
            }
            if (cancelCause == null) {
                // Made on demand: every group is cancelled by its close, and few are asked why.
                cancelCause = switch (cancelled) {
                    case FAILURE -> cancelFailure;
                    case TIMEOUT -> timeoutException();
                    case INTERRUPT -> new InterruptedException(describeLocked());
                    default -> new CancellationException(describeLocked());
                };
            }
            return cancelCause;
        } finally {
            lock.unlock();
        }
    }

    private String describeLocked() {
        String group = "group '" + name + "'";
        return switch (cancelled) {
            case FAILURE -> group + " failed fast: " + Texts.escape(Texts.describe(cancelFailure), Texts.MAX_TEXT);
            case TIMEOUT -> group + " did not finish within " + timeout;
            case INTERRUPT -> "a thread waiting for " + group + " was interrupted";
            case CANCEL -> cancelNote == null ? group + " was cancelled by cancel()"
                    : group + " was cancelled: " + cancelNote;
            case CLOSE -> group + " was closed";
            case REQUEST_END -> "the request ended with " + group + " still open";
        };
    }

    /**
     * Cancels the group: tasks not started never start, running ones are interrupted.
     *
     * @param note why, for {@link #cancelCause()}, or null
     */
    public void cancel(String note) {
        Actions actions;
        lock.lock();
        try {
            if (cancelled == null) {
                cancelNote = note;
            }
            actions = cancelLocked(Reason.CANCEL, null);
        } finally {
            lock.unlock();
        }
        after(actions);
    }

    private void onDeadline() {
        Actions actions = null;
        lock.lock();
        try {
            if (!closed && pending > 0) {
                actions = timeoutLocked();
            }
        } finally {
            lock.unlock();
        }
        if (actions != null) {
            // Never on the timer thread that every group's timeout shares: interrupting the tasks, finishing those
            // that never started (whose handles' stages run users' callbacks), and the waiters' callbacks.
            Actions deadline = actions;
            runtime.callback(() -> after(deadline));
        }
    }

    /** The deadline passed: the group is cancelled (if it was not already) and done for its waiters. */
    private Actions timeoutLocked() {
        if (timedOut) {
            return null;
        }
        timedOut = true;
        outcomeStale = true;
        changed.signalAll();
        Actions actions = cancelLocked(Reason.TIMEOUT, null);
        // Done for its waiters, even while interrupted tasks are still stopping.
        return Actions.merge(actions, releaseWaitersLocked());
    }

    /** @param failure the failure that cancels a fail-fast group, else null */
    private Actions cancelLocked(Reason reason, Throwable failure) {
        if (cancelled != null) {
            return null;
        }
        cancelled = reason;
        cancelFailure = failure;
        outcomeStale = true;
        changed.signalAll();
        if (live == null) {
            return null;
        }
        Actions actions = new Actions();
        actions.cancel = new ArrayList<>();
        for (TaskRun<?> run = live; run != null; run = run.liveNext) {
            actions.cancel.add(run);
        }
        return actions;
    }

    /** Interrupts, finishes never-started tasks and completes waiters, outside the lock. */
    private void after(Actions actions) {
        if (actions == null) {
            return;
        }
        if (actions.cancel != null) {
            for (TaskRun<?> run : actions.cancel) {
                if (run.cancel0(true)) {
                    finished(run, TaskOutcome.CANCELLED);
                }
            }
        }
        if (actions.late != null) {
            runtime.release(); // its slot under the application-wide cap, held until now
        }
        if (actions.complete == null && actions.settle == null && actions.late == null) {
            return;
        }
        // Callbacks and lines about the request get its MDC, whichever thread runs them.
        try (Guard.Context.Added ignored = context.addMissing()) {
            if (actions.complete != null) {
                for (CompletableFuture<Void> stage : actions.complete) {
                    complete(stage, actions.outcome);
                }
            }
            if (actions.settle != null) {
                actions.settle.settleStage();
            }
            if (actions.late != null) {
                TaskRun<?> run = actions.late;
                runtime.pipeline().abandonedTaskEnded(run.outcome(), run.observed() ? null : run.failure(),
                        run.where());
                run.settleStage();
            }
        }
    }

    private static void complete(CompletableFuture<Void> stage, RuntimeException result) {
        if (result == null) {
            stage.complete(null);
        } else {
            stage.completeExceptionally(result);
        }
    }

    void awaitDone(TaskRun<?> run) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            runWaiters++;
            try {
                while (!run.readable()) {
                    changed.await();
                }
            } finally {
                runWaiters--;
            }
        } finally {
            lock.unlock();
        }
    }

    boolean awaitDone(TaskRun<?> run, long nanos) throws InterruptedException {
        long remaining = nanos;
        lock.lockInterruptibly();
        try {
            runWaiters++;
            try {
                while (!run.readable()) {
                    if (remaining <= 0) {
                        return false;
                    }
                    remaining = changed.awaitNanos(remaining);
                }
                return true;
            } finally {
                runWaiters--;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Cancels what is unfinished, waits up to the grace period for it to stop, abandons what still runs, and reports
     * checked failures nobody observed. Idempotent: every call returns once every task has stopped or been abandoned,
     * or its own grace period has passed.
     */
    public void close() {
        checkNotInside("close()");
        closeAndReport(null, System.nanoTime());
    }

    /**
     * The filter's close at the end of the request, first step: the group is closed and its tasks cancelled. The
     * request's end does this for every open group before it waits for any ({@link #finishCloseAtRequestEnd}), so
     * that every group's tasks get their whole grace period. A group not closed, and not waited for, leaked.
     *
     * @return what the second step needs, or null when there is nothing to wait for here
     */
    Closing beginCloseAtRequestEnd() {
        if (TaskRun.current() != null && TaskRun.current().group() == this) {
            return null; // cannot happen from the filter's thread; never wait for ourselves
        }
        return beginClose(Reason.REQUEST_END);
    }

    /**
     * The second step: waits for the group's tasks until its grace period after {@code start}, abandons what still
     * runs, and reports.
     *
     * @param start when the request's end began: every group it closes waits until its own grace period after it,
     *     so that the request ends within the longest grace period of its groups, however many there are
     */
    void finishCloseAtRequestEnd(Closing closing, long start) {
        if (closing != null) {
            finishClose(closing, start);
        }
    }

    private void closeAndReport(Reason atRequestEnd, long start) {
        finishClose(beginClose(atRequestEnd), start);
    }

    /** What the first step of a close decided, for the second. */
    static final class Closing {
        final boolean first;
        final boolean leaked;
        final int cancelledBefore;

        Closing(boolean first, boolean leaked, int cancelledBefore) {
            this.first = first;
            this.leaked = leaked;
            this.cancelledBefore = cancelledBefore;
        }
    }

    /** @param atRequestEnd {@link Reason#REQUEST_END} when the request's end closes the group, else null */
    private Closing beginClose(Reason atRequestEnd) {
        Actions actions;
        Closing closing;
        lock.lock();
        try {
            boolean first = !closed;
            closed = true;
            // Decided under the same lock that closes the group, so a concurrent close() cannot fake a leak.
            boolean leaked = first && atRequestEnd != null && !(settled && (pending == 0 || timedOut));
            closing = new Closing(first, leaked, cancelledTasks);
            // A closed group is done, as errgroup's context is after Wait: cancelled, with its first reason kept.
            actions = first ? cancelLocked(atRequestEnd != null ? atRequestEnd : Reason.CLOSE, null) : null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        after(actions);
        return closing;
    }

    private void finishClose(Closing closing, long start) {
        boolean first = closing.first;
        boolean leaked = closing.leaked;
        int cancelledBefore = closing.cancelledBefore;
        Actions actions;
        List<TaskRun<?>> lost;
        List<TaskRun<?>> abandoned = null;
        int notKept;
        int cancelledByClose;
        boolean interrupted = false;
        lock.lock();
        try {
            long deadline = start + grace.toNanos();
            doneWaiters++;
            try {
                long remaining;
                while (pending > 0 && (remaining = deadline - System.nanoTime()) > 0) {
                    try {
                        changed.awaitNanos(remaining);
                    } catch (InterruptedException e) {
                        interrupted = true; // kept for the caller; the wait is bounded anyway
                    }
                }
            } finally {
                doneWaiters--;
            }
            if (!first) {
                return;
            }
            if (pending > 0) {
                abandoned = abandonLocked();
            }
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            lost = unobserved;
            notKept = unobservedNotKept;
            unobserved = null;
            unobservedNotKept = 0;
            cancelledByClose = cancelledTasks - cancelledBefore;
            // Waiters of completion() on a group closed while tasks were pending get the final outcome.
            actions = releaseWaitersLocked();
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        after(actions);
        request.remove(this);
        Pipeline pipeline = runtime.pipeline();
        try (Guard.Context.Added ignored = context.addMissing()) {
            if (abandoned != null) {
                for (TaskRun<?> run : abandoned) {
                    pipeline.taskAbandoned(grace, openedAt.toString(), run.where());
                }
            }
            if (leaked) {
                pipeline.groupLeaked(name, openedAt.toString(), request.method(), request.path(), cancelledByClose,
                        abandoned == null ? 0 : abandoned.size());
            }
            reportUnobserved(lost, notKept);
        }
    }

    /**
     * The grace period is over and tasks still run, deaf to the interrupt: the group stops waiting for them. They
     * leave its count (so that waiters and the request go on), keep their slot under the application-wide cap until
     * they really end, and report what they throw then.
     */
    private List<TaskRun<?>> abandonLocked() {
        List<TaskRun<?>> abandoned = new ArrayList<>(pending);
        while (live != null) {
            TaskRun<?> run = live;
            unlinkLive(run);
            run.abandoned = true;
            abandoned.add(run);
        }
        pending = 0;
        abandonedTasks += abandoned.size();
        outcomeStale = true;
        changed.signalAll();
        return abandoned;
    }

    private void reportUnobserved(List<TaskRun<?>> lost, int notKept) {
        if (lost == null && notKept == 0) {
            return;
        }
        Pipeline pipeline = runtime.pipeline();
        for (TaskRun<?> run : lost == null ? List.<TaskRun<?>>of() : lost) {
            if (!run.observed()) {
                pipeline.unobservedFailure(run.failure(), run.where());
            }
        }
        if (notKept > 0) {
            pipeline.unobservedNotKept(notKept, name);
        }
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            return "ChildTasks[" + name + ", " + started + " started, " + pending + " unfinished, " + failures
                    + " failed" + (abandonedTasks > 0 ? ", " + abandonedTasks + " abandoned" : "")
                    + (cancelled != null ? ", cancelled (" + cancelled.name().toLowerCase(Locale.ROOT) + ")" : "")
                    + (closed ? ", closed" : "") + "]";
        } finally {
            lock.unlock();
        }
    }

    /** Work decided under the lock and done after it. */
    private static final class Actions {
        List<TaskRun<?>> cancel;
        List<CompletableFuture<Void>> complete;
        RuntimeException outcome;
        /** A task whose handle's stage is to complete. */
        TaskRun<?> settle;
        /** An abandoned task that has now ended. */
        TaskRun<?> late;

        static Actions settle(TaskRun<?> run) {
            Actions actions = new Actions();
            actions.settle = run;
            return actions;
        }

        static Actions lateEnd(TaskRun<?> run) {
            Actions actions = new Actions();
            actions.late = run;
            return actions;
        }

        static Actions merge(Actions a, Actions b) {
            if (a == null) {
                return b;
            }
            if (b == null) {
                return a;
            }
            if (b.cancel != null) {
                a.cancel = b.cancel;
            }
            if (b.complete != null) {
                a.complete = b.complete;
                a.outcome = b.outcome;
            }
            if (b.settle != null) {
                a.settle = b.settle;
            }
            return a;
        }
    }
}
