package dev.backstop.internal;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.HttpServletRequest;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.MDC;

/**
 * The child-task machinery one {@link dev.backstop.RecoveryFilter} owns: the executor, the application-wide cap
 * on running tasks, the timer for group timeouts, and the background tasks that {@code destroy()} waits for.
 *
 * <p>The default executor is created on first use: a virtual thread per task on Java 21+, else a pool of daemon
 * platform threads that grows on demand and is bounded by the cap. Thread-safe.
 */
public final class TaskRuntime {

    private final Reporter reporter;
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
    private volatile boolean shutDown;

    /**
     * @param reporter the pipeline
     * @param executor the executor for child tasks, or null for the default
     * @param maxTasks the application-wide cap on tasks admitted and not finished
     * @param backgroundGrace how long {@link #shutdown()} waits for background tasks
     * @param capSetting how a user changes the cap, quoted in rejections
     */
    public TaskRuntime(Reporter reporter, Executor executor, int maxTasks, Duration backgroundGrace,
            String capSetting) {
        this.reporter = reporter;
        this.configured = executor;
        this.maxTasks = maxTasks;
        this.backgroundGrace = backgroundGrace;
        this.capSetting = capSetting;
        // Register the active-task gauges now, so that dashboards show 0 rather than no data before the first task.
        reporter.active(TaskKind.SCOPED);
    }

    Reporter reporter() {
        return reporter;
    }

    /** The scope of {@code request}, created (capturing method, path and MDC) by the first group to open. */
    RequestScope scope(HttpServletRequest request) {
        Object existing = request.getAttribute(RequestScope.ATTRIBUTE);
        if (existing instanceof RequestScope scope) {
            return scope;
        }
        synchronized (this) {
            existing = request.getAttribute(RequestScope.ATTRIBUTE);
            if (existing instanceof RequestScope scope) {
                return scope;
            }
            RequestScope scope = new RequestScope(this, Recovery.safeMethod(request), Recovery.originalPath(request),
                    copyOfMdc());
            request.setAttribute(RequestScope.ATTRIBUTE, scope);
            return scope;
        }
    }

    /** The request thread's MDC for its tasks; null (tasks run with an empty MDC) when the adapter fails. */
    private static Map<String, String> copyOfMdc() {
        try {
            return MDC.getCopyOfContextMap();
        } catch (RuntimeException brokenMdc) {
            return null;
        }
    }

    /** Closes the groups of a request that has ended; a request that never opened one costs an attribute read. */
    public static void endRequest(ServletRequest request) {
        Object scope;
        try {
            scope = request.getAttribute(RequestScope.ATTRIBUTE);
        } catch (RuntimeException recycled) {
            return;
        }
        if (scope instanceof RequestScope requestScope) {
            requestScope.end();
        }
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
        if (shutDown) {
            throw new RejectedExecutionException("backstop: RecoveryFilter was destroyed; no new child tasks start");
        }
        executor().execute(run);
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
                    current = new ScheduledThreadPoolExecutor(1, daemonThreads("backstop-timeout-"));
                    current.setRemoveOnCancelPolicy(true);
                    timer = current;
                }
            }
        }
        return current.schedule(action, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Starts a detached task; see {@code ChildTasks.background}. */
    void background(RequestScope scope, String name, Object body) {
        if (!admit()) {
            reporter.task(TaskKind.BACKGROUND, TaskOutcome.REJECTED);
            throw capReached();
        }
        TaskRun<?> run = new TaskRun<>(this, null, TaskKind.BACKGROUND, scope, "background", name, body);
        background.add(run);
        try {
            execute(run);
        } catch (RuntimeException refused) {
            // A shutdown racing this call may have cancelled (and counted) the task already.
            if (run.abandon()) {
                release();
                reporter.task(TaskKind.BACKGROUND, TaskOutcome.REJECTED);
                background.remove(run);
            }
            throw refused instanceof RejectedExecutionException rejected ? rejected
                    : new RejectedExecutionException("backstop: the child-task executor refused the task", refused);
        }
    }

    /**
     * Runs a user's completion callback away from Backstop's timer thread: on the child-task executor (outside the
     * cap; it is not a task), or here if the executor refuses.
     */
    void callback(Runnable callback) {
        try {
            executor().execute(callback);
        } catch (RuntimeException refused) {
            callback.run();
        }
    }

    void backgroundFinished(TaskRun<?> run, TaskOutcome outcome) {
        run.publish(outcome);
        release();
        reporter.task(TaskKind.BACKGROUND, outcome);
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
     * application's to shut down.
     */
    public void shutdown() {
        shutDown = true;
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
            Capture where = run.capture(Source.BACKGROUND);
            reporter.warn("background task still running when RecoveryFilter was destroyed, interrupted after the "
                    + backgroundGrace + " grace period: " + Reporter.context(where), null);
            if (run.cancel0(true)) {
                backgroundFinished(run, TaskOutcome.CANCELLED);
            }
        }
        ExecutorService executor = ownExecutor;
        if (executor != null) {
            executor.shutdown();
        }
        ScheduledThreadPoolExecutor current = timer;
        if (current != null) {
            current.shutdownNow();
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
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, 2 * maxTasks, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), daemonThreads("backstop-task-"));
        return pool;
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger sequence = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + sequence.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
