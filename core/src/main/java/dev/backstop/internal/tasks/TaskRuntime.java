package dev.backstop.internal.tasks;

import dev.backstop.internal.pipeline.Capture;
import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Pipeline;
import dev.backstop.internal.pipeline.Source;
import dev.backstop.internal.pipeline.TaskKind;
import dev.backstop.internal.pipeline.TaskOutcome;
import dev.backstop.internal.pipeline.Threads;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The child-task runtime of one {@code Backstop}: the executor, the application-wide cap on running tasks, the
 * timer for group timeouts, and the background tasks that {@link #close()} waits for.
 *
 * <p>The default executor and the timer are created on first use: a virtual thread per task on Java 21+, else a
 * pool of daemon platform threads that grows on demand and is bounded by the cap. Threads of its own end when they
 * have been idle a while, and at {@link #close()}. Thread-safe.
 */
public final class TaskRuntime {

    /** How long an idle thread of the default pool, or the idle timer thread, lives on. */
    static final long IDLE_SECONDS = 60;
    /** Threads of the pool that runs what timeouts set off; beyond them, the timer thread runs it. */
    private static final int MAX_CALLBACK_THREADS = 16;
    /** Longest {@link #close()} waits for the default pool's threads to end, within the background grace period. */
    private static final long TERMINATION_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Pipeline pipeline;
    private final Guard guard;
    private final Executor configured;
    private final int maxTasks;
    private final Duration backgroundGrace;
    private final String capSetting;

    private final AtomicInteger admitted = new AtomicInteger();
    private final Set<TaskRun<?>> background = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition backgroundDone = lock.newCondition();

    private volatile ExecutorService ownExecutor;
    private volatile ScheduledThreadPoolExecutor timer;
    private volatile ThreadPoolExecutor callbacks;
    private volatile boolean closed;

    /**
     * @param guard the one guard every task runs through
     * @param executor the executor for child tasks, or null for the default
     * @param maxTasks the application-wide cap on tasks admitted and not finished
     * @param backgroundGrace how long {@link #close()} waits for background tasks
     * @param capSetting how a user changes the cap, quoted in rejections
     */
    public TaskRuntime(Guard guard, Executor executor, int maxTasks, Duration backgroundGrace, String capSetting) {
        this.pipeline = guard.pipeline();
        this.guard = guard;
        this.configured = executor;
        this.maxTasks = maxTasks;
        this.backgroundGrace = backgroundGrace;
        this.capSetting = capSetting;
    }

    Pipeline pipeline() {
        return pipeline;
    }

    Guard guard() {
        return guard;
    }
    /** Takes one slot of the application-wide cap. */
    boolean admit() {
        while (true) {
            int now = admitted.get();
            if (now >= maxTasks) {
                return false;
            }
            if (admitted.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    void release() {
        admitted.decrementAndGet();
    }

    RejectedExecutionException capReached() {
        return new RejectedExecutionException("backstop: " + maxTasks + " child tasks are already running in this "
                + "application, the cap set by " + capSetting + "; the task was not started");
    }

    /** Hands an admitted task to the executor; on refusal the caller undoes the admission. */
    void execute(TaskRun<?> run) {
        checkOpen();
        executor().execute(run);
    }

    /** @throws RejectedExecutionException once this runtime is closed */
    void checkOpen() {
        if (closed) {
            throw new RejectedExecutionException("backstop: the Backstop of this request was closed (its "
                    + "RecoveryFilter destroyed, or its application stopped); no new child tasks start");
        }
    }

    private Executor executor() {
        if (configured != null) {
            return configured;
        }
        ExecutorService executor = ownExecutor;
        if (executor == null) {
            synchronized (this) {
                executor = ownExecutor;
                if (executor == null) {
                    checkOpen(); // no new thread once closed
                    executor = defaultExecutor(maxTasks);
                    ownExecutor = executor;
                }
            }
        }
        return executor;
    }

    /** Runs {@code action} once after {@code delay}, on Backstop's timer thread. */
    ScheduledFuture<?> schedule(Runnable action, Duration delay) {
        ScheduledThreadPoolExecutor current = timer;
        if (current == null) {
            synchronized (this) {
                current = timer;
                if (current == null) {
                    checkOpen(); // no new thread once closed
                    current = new ScheduledThreadPoolExecutor(1, Threads.daemons("backstop-timeout-"));
                    current.setRemoveOnCancelPolicy(true);
                    current.setKeepAliveTime(IDLE_SECONDS, TimeUnit.SECONDS);
                    current.allowCoreThreadTimeOut(true);
                    timer = current;
                }
            }
        }
        return current.schedule(action, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Starts a detached task; see {@code ChildTasks.background}. */
    void background(String method, String path, String name, Callable<?> body) {
        checkOpen();
        if (!admit()) {
            pipeline.task(TaskKind.BACKGROUND, TaskOutcome.REJECTED);
            throw capReached();
        }
        TaskRun<?> run = new TaskRun<>(this, null, TaskKind.BACKGROUND, method, path, Guard.capture(), "background",
                name, body);
        background.add(run);
        try {
            execute(run);
        } catch (RuntimeException refused) {
            // A shutdown racing this call may have cancelled (and counted) the task already.
            if (run.withdraw()) {
                release();
                pipeline.task(TaskKind.BACKGROUND, TaskOutcome.REJECTED);
                background.remove(run);
            }
            throw refused instanceof RejectedExecutionException rejected ? rejected
                    : new RejectedExecutionException("backstop: the child-task executor refused the task", refused);
        }
    }

    /**
     * Runs what a group's timeout sets off (interrupts, users' completion callbacks) away from Backstop's timer
     * thread, on a small pool of Backstop's own: never on the child-task executor, where it could wait behind the
     * very tasks that ignore their interrupt (a fixed pool the application gave). Here, if that pool is busy or gone.
     */
    void callback(Runnable callback) {
        ThreadPoolExecutor pool = callbacks;
        if (pool == null && !closed) {
            synchronized (this) {
                pool = callbacks;
                if (pool == null && !closed) {
                    pool = new ThreadPoolExecutor(0, MAX_CALLBACK_THREADS, IDLE_SECONDS, TimeUnit.SECONDS,
                            new SynchronousQueue<>(), Threads.daemons("backstop-callback-"));
                    callbacks = pool;
                }
            }
        }
        try {
            if (pool != null) {
                pool.execute(callback);
                return;
            }
        } catch (RuntimeException busy) {
            // Run it here.
        }
        callback.run();
    }

    void backgroundFinished(TaskRun<?> run, TaskOutcome outcome) {
        run.publish(outcome);
        release();
        pipeline.task(TaskKind.BACKGROUND, outcome);
        background.remove(run);
        lock.lock();
        try {
            backgroundDone.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops accepting tasks, waits up to the grace period for background tasks, then interrupts and reports the
     * ones still running, and shuts down the executor and timer Backstop created. A configured executor is the
     * application's to shut down. Idempotent.
     */
    public void close() {
        synchronized (this) {
            closed = true; // under the lock that creates the executor and the timer: neither is made after this
        }
        long deadline = System.nanoTime() + backgroundGrace.toNanos();
        boolean interrupted = false;
        lock.lock();
        try {
            long remaining;
            while (!background.isEmpty() && (remaining = deadline - System.nanoTime()) > 0) {
                try {
                    backgroundDone.awaitNanos(remaining);
                } catch (InterruptedException e) {
                    interrupted = true;
                    break;
                }
            }
        } finally {
            lock.unlock();
        }
        List<TaskRun<?>> left = new ArrayList<>(background);
        for (TaskRun<?> run : left) {
            Capture where = run.where();
            pipeline.backgroundStillRunning(backgroundGrace, where);
            if (run.cancel0(true)) {
                backgroundFinished(run, TaskOutcome.CANCELLED);
            }
        }
        ScheduledThreadPoolExecutor current = timer;
        if (current != null) {
            current.shutdownNow();
        }
        ThreadPoolExecutor callbackPool;
        synchronized (this) {
            callbackPool = callbacks;
        }
        if (callbackPool != null) {
            callbackPool.shutdown(); // what runs there finishes; idle threads end now
        }
        ExecutorService executor = ownExecutor;
        if (executor != null) {
            executor.shutdown();
            try {
                // Idle threads end at once; a container that checks for leftover threads right after the application
                // stopped then finds none. Tasks still running (of requests still in flight) finish on their own.
                executor.awaitTermination(Math.min(Math.max(deadline - System.nanoTime(), 0), TERMINATION_WAIT_NANOS),
                        TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static ExecutorService defaultExecutor(int maxTasks) {
        if (Runtime.version().feature() >= 21) {
            try {
                Method factory = Executors.class.getMethod("newVirtualThreadPerTaskExecutor");
                return (ExecutorService) factory.invoke(null);
            } catch (ReflectiveOperationException | RuntimeException unavailable) {
                // Fall through to platform threads.
            }
        }
        // Grows a thread per concurrent task and keeps idle ones a minute. The cap admits at most maxTasks at once;
        // the slack covers threads that have finished a task but not yet returned to the pool.
        return new ThreadPoolExecutor(0, 2 * maxTasks, IDLE_SECONDS, TimeUnit.SECONDS, new SynchronousQueue<>(),
                Threads.daemons("backstop-task-"));
    }
}
