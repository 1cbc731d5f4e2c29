package dev.backstop.internal.tasks;

import dev.backstop.TaskHandle;
import dev.backstop.internal.pipeline.Capture;
import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Kind;
import dev.backstop.internal.pipeline.Report;
import dev.backstop.internal.pipeline.Source;
import dev.backstop.internal.pipeline.TaskKind;
import dev.backstop.internal.pipeline.TaskOutcome;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One child task, in its own thread: it runs its body through the one {@link Guard} (which installs the context
 * captured when the group opened, catches whatever the body throws, and reports a panic at once, in this thread),
 * names a virtual thread after group and task while it runs, and hands the outcome to its group (or to the runtime,
 * for background tasks). Nothing the body throws reaches the executor or a thread's uncaught-exception handler.
 *
 * <p>It is also the {@link TaskHandle} that {@code submit} returns. Thread-safe.
 */
final class TaskRun<T> implements Runnable, TaskHandle<T>, Guard.Work {

    private static final int NEW = 0;
    private static final int RUNNING = 1;
    private static final int DONE = 2;

    private static final ThreadLocal<TaskRun<?>> CURRENT = new ThreadLocal<>();

    /** {@code Thread::isVirtual} on Java 21+, else null. */
    private static final MethodHandle IS_VIRTUAL = findIsVirtual();

    private final TaskRuntime runtime;
    private final TaskGroup group;
    private final TaskKind kind;
    private final String method;
    private final String path;
    private final Guard.Context context;
    private final String groupName;
    private final String name;
    private final Callable<T> body;

    // Guarded by the group's lock: the group's list of unfinished tasks.
    TaskRun<?> livePrev;
    TaskRun<?> liveNext;
    boolean linked;

    // Guarded by this; held only for a few instructions, never while waiting.
    private int state;
    private Thread runner;
    private boolean cancelRequested;
    private boolean interruptIssued;

    // Written once before the group publishes the outcome under its lock.
    private volatile TaskOutcome outcome;
    private T value;
    private Throwable failure;
    private String errorId;
    private volatile boolean observed;
    // Created on demand, under this.
    private volatile FutureView future;
    private volatile CompletableFuture<T> stage;
    // Guarded by the group's lock: its group has given up waiting for it (see TaskGroup#close).
    boolean abandoned;
    // Guarded by the group's lock: a checked failure the group counted among the unobserved without keeping it.
    boolean countedNotKept;

    /**
     * @param method the request's method, for the task's log lines; the task holds nothing else of the request
     * @param path the request's path, for the same
     */
    TaskRun(TaskRuntime runtime, TaskGroup group, TaskKind kind, String method, String path, Guard.Context context,
            String groupName, String name, Callable<T> body) {
        this.runtime = runtime;
        this.group = group;
        this.kind = kind;
        this.method = method;
        this.path = path;
        this.context = context;
        this.groupName = groupName;
        this.name = name;
        this.body = body;
    }

    /** A task that never started because its group was already cancelled; done from the start. */
    static <T> TaskRun<T> cancelledBeforeStart(TaskGroup group, String groupName, String name) {
        TaskRun<T> run = new TaskRun<>(null, group, TaskKind.SCOPED, null, null, null, groupName, name, null);
        run.state = DONE;
        run.cancelRequested = true;
        run.outcome = TaskOutcome.CANCELLED;
        return run;
    }

    @Override
    public void run() {
        synchronized (this) {
            if (state != NEW) {
                return; // cancelled while it waited in the executor's queue; already counted
            }
            state = RUNNING;
            runner = Thread.currentThread();
        }
        Thread thread = Thread.currentThread();
        TaskOutcome result;
        Report failed = null;
        // Each step around the guard is safe on its own, so the body always runs and always gets an outcome.
        AtomicInteger active = runtime.pipeline().active(kind);
        active.incrementAndGet();
        // Renaming a platform thread is a system call (prctl) twice per task, measured at about a third of a
        // no-op task's cost; a virtual thread's name is only a field. Platform threads keep their names.
        String threadName = isVirtual(thread) ? nameOf(thread) : null;
        TaskRun<?> outer = CURRENT.get();
        try {
            CURRENT.set(this);
            if (threadName != null) {
                rename(thread, groupName + "/" + name + " (backstop)");
            }
            failed = runtime.guard().run(context, this, kind == TaskKind.SCOPED);
            result = outcomeOf(failed);
        } finally {
            if (threadName != null) {
                rename(thread, threadName);
            }
            restoreCurrent(outer);
            active.decrementAndGet();
            synchronized (this) {
                state = DONE;
                runner = null;
                if (interruptIssued) {
                    // Our cancel interrupted this thread; don't let the interrupt leak into the pool's next task.
                    Thread.interrupted();
                }
            }
        }
        if (failed != null) {
            this.failure = failed.failure();
            this.errorId = failed.errorId();
            if (failed.errorId() != null && group != null) {
                group.remember(failed); // handed to its handler through await(): reported once
            }
        }
        if (group != null) {
            group.finished(this, result);
        } else {
            runtime.backgroundFinished(this, result);
        }
    }

    private static TaskOutcome outcomeOf(Report failed) {
        if (failed == null) {
            return TaskOutcome.SUCCESS;
        }
        return switch (failed.kind()) {
            case INTERRUPTED -> TaskOutcome.CANCELLED;
            case PANIC, FATAL -> TaskOutcome.PANIC;
            default -> TaskOutcome.FAILURE;
        };
    }

    @Override
    public void runGuarded() throws Exception {
        value = body.call();
    }

    @Override
    public Capture where() {
        return new Capture(kind == TaskKind.BACKGROUND ? Source.BACKGROUND : Source.CHILD, method, path, null,
                groupName, name);
    }

    @Override
    public synchronized boolean interruptIsCancel() {
        return cancelRequested;
    }

    private static MethodHandle findIsVirtual() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                    MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException | RuntimeException olderJava) {
            return null;
        }
    }

    /** The task running on the current thread, if any: a task must not wait for (or close) its own group. */
    static TaskRun<?> current() {
        return CURRENT.get();
    }

    TaskGroup group() {
        return group;
    }

    private static void restoreCurrent(TaskRun<?> outer) {
        // set(null) rather than remove(): a pool thread keeps its map entry instead of churning it per task.
        CURRENT.set(outer);
    }

    private static boolean isVirtual(Thread thread) {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(thread);
        } catch (Throwable unexpected) {
            return false;
        }
    }

    private static String nameOf(Thread thread) {
        try {
            return thread.getName();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Takes a task that was admitted but never handed over (the executor refused it) out of play. False when a
     * cancel got there first and has already finished it.
     */
    synchronized boolean withdraw() {
        if (state != NEW) {
            return false;
        }
        state = DONE;
        return true;
    }

    /**
     * Cancels the task. A task that has not started never will: the caller then finishes it as cancelled. A running
     * one is interrupted when {@code interrupt} is true, and finishes on its own.
     *
     * @return true when the task had not started
     */
    boolean cancel0(boolean interrupt) {
        synchronized (this) {
            cancelRequested = true;
            if (state == NEW) {
                state = DONE;
                return true;
            }
            if (state == RUNNING && interrupt && !interruptIssued && runner != null) {
                interruptIssued = true;
                runner.interrupt();
            }
            return false;
        }
    }

    private static void rename(Thread thread, String name) {
        try {
            thread.setName(name);
        } catch (RuntimeException refused) {
            // A security manager or a foreign thread type: the name is a convenience.
        }
    }

    void publish(TaskOutcome result) {
        this.outcome = result;
    }

    TaskOutcome outcome() {
        return outcome;
    }

    Throwable failure() {
        return failure;
    }

    /** The error id of the panic this task reported, or null. */
    String errorId() {
        return errorId;
    }

    boolean observed() {
        return observed;
    }

    /**
     * Someone read (or took on) this task's failure. A checked failure its group only counted, not kept, is then no
     * longer among the unobserved ones its close reports.
     */
    private void markObserved() {
        if (observed) {
            return;
        }
        observed = true;
        if (group != null) {
            group.observed(this);
        }
    }

    // The handle, as StructuredTaskScope.Subtask has it: the state once the task is over, a value without checked
    // exceptions. A task abandoned by its group stays RUNNING until it really ends.

    @Override
    public String name() {
        return name;
    }

    @Override
    public State state() {
        TaskOutcome result = outcome;
        if (result == null) {
            return State.RUNNING;
        }
        return switch (result) {
            case SUCCESS -> State.SUCCESS;
            case PANIC, FAILURE -> State.FAILED;
            default -> State.CANCELLED;
        };
    }

    @Override
    public T get() {
        TaskOutcome result = outcome;
        if (result == TaskOutcome.SUCCESS) {
            return value;
        }
        if (result == null) {
            throw new IllegalStateException("task '" + name + "' of group '" + groupName + "' has not finished; "
                    + "read its value after await() (or once completion() has completed)");
        }
        if (result == TaskOutcome.CANCELLED) {
            throw new IllegalStateException("task '" + name + "' of group '" + groupName + "' was cancelled",
                    failure);
        }
        markObserved();
        throw new IllegalStateException("task '" + name + "' of group '" + groupName + "' failed", failure);
    }

    @Override
    public Throwable exception() {
        TaskOutcome result = outcome;
        if (result != TaskOutcome.PANIC && result != TaskOutcome.FAILURE) {
            return null;
        }
        markObserved();
        return failure;
    }

    @Override
    public Future<T> toFuture() {
        FutureView view = future;
        if (view == null) {
            synchronized (this) {
                if (future == null) {
                    future = new FutureView();
                }
                view = future;
            }
        }
        return view;
    }

    @Override
    public CompletionStage<T> toCompletionStage() {
        CompletableFuture<T> current;
        boolean settleNow = false;
        markObserved(); // whoever asks for the stage takes on its failure
        synchronized (this) {
            if (stage == null) {
                stage = new CompletableFuture<>();
                settleNow = outcome != null;
            }
            current = stage;
        }
        if (settleNow) {
            settle(current);
        }
        return current.minimalCompletionStage();
    }

    /** Whether anyone asked for {@link #toCompletionStage()}: only then is there a stage to complete. */
    boolean hasStage() {
        return stage != null;
    }

    /**
     * Completes the stage of {@link #toCompletionStage()}, if anyone asked for one: called once the outcome is
     * published, outside the group's lock, with the group's context installed, since it runs the stage's callbacks.
     */
    void settleStage() {
        CompletableFuture<T> current;
        synchronized (this) {
            current = stage;
        }
        if (current != null) {
            settle(current);
        }
    }

    private void settle(CompletableFuture<T> target) {
        TaskOutcome result = outcome;
        if (result == TaskOutcome.SUCCESS) {
            target.complete(value);
        } else if (result == TaskOutcome.CANCELLED) {
            CancellationException cancelled = new CancellationException(
                    "task '" + name + "' of group '" + groupName + "' was cancelled");
            if (failure != null) {
                cancelled.initCause(failure);
            }
            target.completeExceptionally(cancelled);
        } else if (result != null) {
            target.completeExceptionally(failure);
        }
    }

    boolean readable() {
        FutureView view = future;
        return outcome != null || (view != null && view.cancelled);
    }

    /**
     * The handle as a {@link Future}: cancelled here means cancelled for the future's reader, as with
     * {@code FutureTask}; the task itself is interrupted (if asked) and finishes in its group like any other.
     */
    private final class FutureView implements Future<T> {

        private volatile boolean cancelled;

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (outcome != null || cancelled) {
                return false;
            }
            if (cancel0(mayInterruptIfRunning)) {
                group.finished(TaskRun.this, TaskOutcome.CANCELLED);
                return true;
            }
            cancelled = true;
            group.signalChange();
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled || outcome == TaskOutcome.CANCELLED;
        }

        @Override
        public boolean isDone() {
            return cancelled || outcome != null;
        }

        @Override
        public T get() throws InterruptedException, ExecutionException {
            checkNotSelf();
            group.awaitDone(TaskRun.this);
            return report();
        }

        @Override
        public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            checkNotSelf();
            if (!group.awaitDone(TaskRun.this, unit.toNanos(timeout))) {
                throw new TimeoutException("task '" + name + "' of group '" + groupName + "' is still running after "
                        + timeout + " " + unit.name().toLowerCase(Locale.ROOT));
            }
            return report();
        }

        private void checkNotSelf() {
            if (CURRENT.get() == TaskRun.this) {
                throw new IllegalStateException("task '" + name + "' called get() on its own future, which would "
                        + "wait for itself forever");
            }
        }

        private T report() throws ExecutionException {
            TaskOutcome result = outcome;
            if (cancelled || result == TaskOutcome.CANCELLED) {
                CancellationException stopped = new CancellationException(
                        "task '" + name + "' of group '" + groupName + "' was cancelled");
                if (result == TaskOutcome.CANCELLED && failure != null) {
                    stopped.initCause(failure);
                }
                throw stopped;
            }
            if (result == TaskOutcome.SUCCESS) {
                return value;
            }
            markObserved();
            // A message of our own: the one-argument constructor would call the failure's toString().
            throw new ExecutionException("task '" + name + "' of group '" + groupName + "' failed", failure);
        }

        @Override
        public String toString() {
            return TaskRun.this.toString();
        }
    }

    @Override
    public String toString() {
        return "ChildTask[" + groupName + "/" + name + ", " + (outcome == null ? "running" : outcome.tag()) + "]";
    }
}
