package dev.backstop;

import dev.backstop.internal.Guard;
import dev.backstop.internal.GuardedExecutorService;
import dev.backstop.internal.GuardedScheduledExecutorService;
import dev.backstop.internal.Reporter;
import dev.backstop.internal.UncaughtHandler;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;

/**
 * Backstop beyond the request: one reporting pipeline, configured once, for work that no filter and no
 * {@link ChildTasks} group watches. The Java form of Go's forgotten goroutine: every failure of a guarded executor,
 * thread or {@code CompletableFuture} is logged once and counted in {@code backstop.panics} with
 * {@code source=executor} or {@code source=thread}, next to the handler and child panics.
 * <pre>{@code
 * Backstop backstop = Backstop.builder().meterRegistry(registry).build();
 * ScheduledExecutorService scheduler = backstop.guard(Executors.newScheduledThreadPool(2));
 * ExecutorService workers = backstop.guard(Executors.newFixedThreadPool(8));
 * ThreadFactory threads = backstop.guard(Thread.ofVirtual().factory());
 * backstop.guard(CompletableFuture.runAsync(this::warmCaches, workers));
 * backstop.installUncaughtExceptionHandler();
 * RecoveryFilter filter = RecoveryFilter.builder().backstop(backstop).build();   // same pipeline, same meters
 * }</pre>
 *
 * <p>The rules:
 * <ul>
 *   <li>An unchecked failure of a guarded executor's task is reported once, when it happens, whether or not anyone
 *       reads its future (the future still holds it). A task given to {@code execute} ends there: its thread
 *       neither dies nor reaches the uncaught-exception handler.</li>
 *   <li>A checked failure, which only {@code submit(Callable)}, {@code invokeAll} and
 *       {@code schedule(Callable, ...)} can have, is reported only if nobody read it: if the future becomes
 *       unreachable without {@code get()} having been called, the failure is reported then (at the next garbage
 *       collection that finds it; one {@link java.lang.ref.Cleaner} registration a future).</li>
 *   <li>A periodic task that throws is reported on every failing run and keeps its schedule; with
 *       {@link Builder#cancelFailedPeriodicTasks(boolean)} it is cancelled, as the JDK does.</li>
 *   <li>The submitting thread's SLF4J MDC is carried into the task and cleared after
 *       ({@link Builder#propagateMdc(boolean)}).</li>
 *   <li>{@code shutdown}, {@code shutdownNow}, {@code awaitTermination} and {@code close} are the wrapped
 *       executor's own.</li>
 * </ul>
 * Immutable and thread-safe, except the uncaught-handler pair, which is synchronized.
 */
public final class Backstop {

    /** Default of {@link Builder#propagateMdc(boolean)}. */
    public static final boolean DEFAULT_PROPAGATE_MDC = true;
    /** Default of {@link Builder#cancelFailedPeriodicTasks(boolean)}: a failing run does not end the schedule. */
    public static final boolean DEFAULT_CANCEL_FAILED_PERIODIC_TASKS = false;

    private final Reporter reporter;
    private final Guard guard;
    private UncaughtHandler installed;

    private Backstop(Builder builder) {
        this.reporter = new Reporter(builder.meterRegistry, builder.logStormInterval);
        this.guard = new Guard(reporter, builder.propagateMdc, builder.cancelFailedPeriodicTasks);
    }

    /** @return a builder; {@code build()} with no settings reports to {@code Metrics.globalRegistry} */
    public static Builder builder() {
        return new Builder();
    }

    Reporter reporter() {
        return reporter;
    }

    Guard guardFor() {
        return guard;
    }

    /** @return {@code executor}, with every task's failure reported; see the class rules */
    public ExecutorService guard(ExecutorService executor) {
        return new GuardedExecutorService(Objects.requireNonNull(executor, "executor cannot be null"), guard);
    }

    /** @return {@code executor}, with every task's failure reported, periodic ones on every failing run */
    public ScheduledExecutorService guard(ScheduledExecutorService executor) {
        return new GuardedScheduledExecutorService(Objects.requireNonNull(executor, "executor cannot be null"),
                guard);
    }

    /**
     * @return a factory whose threads (platform or virtual, as {@code factory} makes them) report a failure that
     *     ends them ({@code source=thread}) instead of printing it to stderr
     */
    public ThreadFactory guard(ThreadFactory factory) {
        Objects.requireNonNull(factory, "factory cannot be null");
        return task -> factory.newThread(guard.thread(task));
    }

    /**
     * Reports the failure {@code stage} ends with, if it ends with one: call it on the last stage of a pipeline,
     * so that failures the pipeline's own {@code exceptionally} or {@code handle} stages dealt with are not
     * reported. Cancellation is not reported. Costs one dependent stage.
     * <pre>{@code
     * backstop.guard(CompletableFuture.supplyAsync(this::load).thenAccept(this::store));
     * }</pre>
     *
     * @return {@code stage} itself
     */
    public <S extends CompletionStage<?>> S guard(S stage) {
        Objects.requireNonNull(stage, "stage cannot be null");
        stage.whenComplete((value, failure) -> {
            if (failure != null) {
                guard.stageFailed(failure);
            }
        });
        return stage;
    }

    /**
     * Installs a JVM-wide default uncaught-exception handler that reports ({@code source=thread}) and then hands the
     * failure to the handler installed before, if any. Idempotent; undo it with
     * {@link #uninstallUncaughtExceptionHandler()} (a web application must, when it is undeployed).
     */
    public synchronized void installUncaughtExceptionHandler() {
        if (installed == null) {
            installed = UncaughtHandler.install(guard);
        }
    }

    /** Restores the default handler that was there before {@link #installUncaughtExceptionHandler()}. Idempotent. */
    public synchronized void uninstallUncaughtExceptionHandler() {
        if (installed != null) {
            installed.uninstall();
            installed = null;
        }
    }

    /**
     * Settings for a {@link Backstop}. Not thread-safe; {@link #build()} copies them.
     */
    public static final class Builder {

        private MeterRegistry meterRegistry = Metrics.globalRegistry;
        private boolean propagateMdc = DEFAULT_PROPAGATE_MDC;
        private Duration logStormInterval = Reporter.DEFAULT_LOG_STORM_INTERVAL;
        private boolean cancelFailedPeriodicTasks = DEFAULT_CANCEL_FAILED_PERIODIC_TASKS;

        private Builder() {
        }

        /** The registry for Backstop's meters. Default {@code Metrics.globalRegistry}. */
        public Builder meterRegistry(MeterRegistry meterRegistry) {
            this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry cannot be null");
            return this;
        }

        /**
         * Identical panics (same source, exception class and top three stack frames) are logged with their stack at
         * most once per {@code interval}; the others are counted as always and folded into one WARN summary line per
         * interval ({@code backstop.folded.lines}). {@link Duration#ZERO} logs every panic in full. Default 10s.
         */
        public Builder logStormInterval(Duration interval) {
            this.logStormInterval = Reporter.checkInterval(interval);
            return this;
        }

        /**
         * Whether guarded executors carry the submitting thread's SLF4J MDC into each task (and clear it after).
         * Default {@value Backstop#DEFAULT_PROPAGATE_MDC}; costs a copy of the MDC per submitted task.
         */
        public Builder propagateMdc(boolean propagateMdc) {
            this.propagateMdc = propagateMdc;
            return this;
        }

        /**
         * {@code true} to cancel a periodic task after a failing run, as {@code ScheduledThreadPoolExecutor} does;
         * either way the failure is reported. Default {@value Backstop#DEFAULT_CANCEL_FAILED_PERIODIC_TASKS}: the
         * schedule goes on.
         */
        public Builder cancelFailedPeriodicTasks(boolean cancel) {
            this.cancelFailedPeriodicTasks = cancel;
            return this;
        }

        /** @return a new Backstop with these settings */
        public Backstop build() {
            return new Backstop(this);
        }
    }
}
