package dev.backstop;

import dev.backstop.internal.executor.ExecutorGuard;
import dev.backstop.internal.executor.GuardedExecutorService;
import dev.backstop.internal.executor.GuardedScheduledExecutorService;
import dev.backstop.internal.executor.UncaughtHandler;
import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Pipeline;
import dev.backstop.internal.tasks.TaskRuntime;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.function.LongSupplier;

/**
 * The root of Backstop: one reporting pipeline (error ids, the log, log storms, meters), the one guard every piece of
 * guarded work runs through, and the runtime of {@link ChildTasks}. A {@link RecoveryFilter} builds one of its own or
 * joins one; everything else reaches it from there. It also brings work that no filter and no {@code ChildTasks}
 * group watches into the same pipeline, the Java form of Go's forgotten goroutine: every failure of a guarded
 * executor, thread or {@code CompletableFuture} is logged once and counted in {@code backstop.panics} with
 * {@code source=executor} or {@code source=thread}, next to the handler and child panics.
 * <pre>{@code
 * Backstop backstop = Backstop.builder().meterRegistry(registry).build();
 * ScheduledExecutorService scheduler = backstop.guard(Executors.newScheduledThreadPool(2));
 * ExecutorService workers = backstop.guard(Executors.newFixedThreadPool(8));
 * ThreadFactory threads = backstop.guard(Thread.ofVirtual().factory());
 * backstop.guard(CompletableFuture.runAsync(this::warmCaches, workers));
 * backstop.installUncaughtExceptionHandler();
 * RecoveryFilter filter = RecoveryFilter.builder().backstop(backstop).build();   // same pipeline, same meters
 * ...
 * backstop.close();                                     // when the application stops
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
 *
 * <p><b>Lifecycle.</b> A Backstop holds no thread until it needs one, and nothing JVM-wide: what it has reported
 * belongs to each failure's own report chain, its meters to itself. {@link #close()} ends what it started: it waits
 * for background tasks (up to {@link Builder#backgroundGracePeriod(Duration)}), stops its child-task threads and
 * timer, writes pending log summaries, removes its {@code backstop.tasks.active} gauges from the registry and takes
 * its uncaught-exception handler out of the chain. A filter closes the Backstop it built at {@code destroy()}; one
 * you build is yours to close when the application stops. Guarded executors stay the application's to shut down.
 *
 * <p>Immutable and thread-safe, except the uncaught-handler pair, which is synchronized.
 */
public final class Backstop implements AutoCloseable {

    /** Default of {@link Builder#propagateMdc(boolean)}. */
    public static final boolean DEFAULT_PROPAGATE_MDC = true;
    /** Default of {@link Builder#cancelFailedPeriodicTasks(boolean)}: a failing run does not end the schedule. */
    public static final boolean DEFAULT_CANCEL_FAILED_PERIODIC_TASKS = false;
    /** Default of {@link Builder#name(String)}. */
    public static final String DEFAULT_NAME = "default";
    /** Default of {@link Builder#maxChildTasks(int)}. */
    public static final int DEFAULT_MAX_CHILD_TASKS = 1000;
    /** Default of {@link Builder#backgroundGracePeriod(Duration)}. */
    public static final Duration DEFAULT_BACKGROUND_GRACE_PERIOD = Duration.ofSeconds(5);
    /** Default of {@link Builder#logStormInterval(Duration)}. */
    public static final Duration DEFAULT_LOG_STORM_INTERVAL = Pipeline.DEFAULT_LOG_STORM_INTERVAL;

    private final String name;
    private final Pipeline pipeline;
    private final ExecutorGuard executors;
    private final TaskRuntime tasks;
    // Guarded by this: the one handler of this Backstop, held by the application and by filters that asked for it.
    private UncaughtHandler installed;
    private boolean heldByApplication;
    private int heldByFilters;
    private boolean closed;

    private Backstop(Builder builder) {
        this.name = builder.name;
        this.pipeline = new Pipeline(builder.meterRegistry, builder.name, builder.logStormInterval, builder.nanoTime,
                builder.observationRegistry);
        pipeline.announceRegistry(builder.name, builder.meterRegistry, builder.registrySource != null
                ? builder.registrySource : builder.meterRegistry == Metrics.globalRegistry
                ? "no registry given: the default, Metrics.globalRegistry" : "Backstop.Builder.meterRegistry");
        Guard guard = new Guard(pipeline);
        this.executors = new ExecutorGuard(guard, builder.propagateMdc, builder.cancelFailedPeriodicTasks);
        this.tasks = new TaskRuntime(guard, builder.childTaskExecutor, builder.maxChildTasks,
                builder.backgroundGracePeriod, builder.capSetting);
    }

    /**
     * Starts the settings of a new Backstop.
     *
     * @return a builder; {@code build()} with no settings reports to {@code Metrics.globalRegistry}
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns this Backstop's name.
     *
     * @return this Backstop's name, the {@code backstop} tag of its {@code backstop.tasks.active} gauges
     */
    public String name() {
        return name;
    }

    Pipeline pipeline() {
        return pipeline;
    }

    TaskRuntime tasks() {
        return tasks;
    }

    /**
     * Holds this Backstop's uncaught-exception handler for a filter (init-param {@code uncaught-exception-handler}):
     * installed if it was not, so that a thread's death is reported once however many ask for it.
     *
     * @return what lets go of it again; the handler goes when nobody holds it
     */
    synchronized Runnable holdUncaughtHandlerForFilter() {
        heldByFilters++;
        installIfHeld();
        boolean[] released = new boolean[1];
        return () -> {
            synchronized (this) {
                if (!released[0]) {
                    released[0] = true;
                    heldByFilters--;
                    uninstallIfUnheld();
                }
            }
        };
    }

    private void installIfHeld() {
        if (installed == null && !closed && (heldByApplication || heldByFilters > 0)) {
            installed = UncaughtHandler.install(executors);
        }
    }

    private void uninstallIfUnheld() {
        if (installed != null && !heldByApplication && heldByFilters == 0) {
            installed.uninstall();
            installed = null;
        }
    }

    static Duration checkInterval(Duration interval) {
        return Pipeline.checkInterval(interval);
    }

    /**
     * Wraps an executor so that every failure of its tasks is reported ({@code source=executor}).
     *
     * @param executor the executor to guard; it stays the application's to shut down
     * @return {@code executor}, with every task's failure reported; see the class rules
     * @throws NullPointerException if {@code executor} is null
     */
    public ExecutorService guard(ExecutorService executor) {
        return new GuardedExecutorService(Objects.requireNonNull(executor, "executor cannot be null"), executors);
    }

    /**
     * Wraps a scheduled executor so that every failure of its tasks is reported ({@code source=executor}).
     *
     * @param executor the executor to guard; it stays the application's to shut down
     * @return {@code executor}, with every task's failure reported, periodic ones on every failing run
     * @throws NullPointerException if {@code executor} is null
     */
    public ScheduledExecutorService guard(ScheduledExecutorService executor) {
        return new GuardedScheduledExecutorService(Objects.requireNonNull(executor, "executor cannot be null"),
                executors);
    }

    /**
     * Wraps a thread factory so that a failure that ends one of its threads is reported.
     *
     * @param factory the factory that makes the threads
     * @return a factory whose threads (platform or virtual, as {@code factory} makes them) report a failure that
     *     ends them ({@code source=thread}) instead of printing it to stderr
     * @throws NullPointerException if {@code factory} is null
     */
    public ThreadFactory guard(ThreadFactory factory) {
        Objects.requireNonNull(factory, "factory cannot be null");
        return task -> factory.newThread(executors.thread(task));
    }

    /**
     * Guards one task for an executor that is not Backstop's (a framework's pool: what a Spring {@code TaskDecorator}
     * returns, say): what it throws is reported ({@code source=executor}) and ends there, as with a guarded executor's
     * {@code execute}, so the pool's thread does not die; a fatal error is rethrown after the report. A task that is
     * itself a {@code Future} (the {@code FutureTask} of a {@code submit}) keeps its failure for its reader, and an
     * unchecked one is also reported once the task has run. The submitting thread's MDC is carried, as configured.
     * <pre>{@code
     * TaskDecorator decorator = task -> backstop.guard(task);   // a Runnable, not a bare lambda (see guard(S))
     * }</pre>
     *
     * @param task the task to guard
     * @return the guarded task
     * @throws NullPointerException if {@code task} is null
     */
    public Runnable guard(Runnable task) {
        return executors.decorate(Objects.requireNonNull(task, "task cannot be null"));
    }

    /**
     * Reports a failure that code of the application's or a framework's caught outside any request (an async method's
     * exception handler, a scheduler's error handler): one panic, {@code source=executor}, logged and counted as every
     * other, with its own error id.
     *
     * @param failure what was caught
     * @return the error id of its log line
     * @throws NullPointerException if {@code failure} is null
     */
    public String report(Throwable failure) {
        return executors.report(Objects.requireNonNull(failure, "failure cannot be null"));
    }

    /**
     * Reports the failure {@code stage} ends with, if it ends with one: call it on the last stage of a pipeline,
     * so that failures the pipeline's own {@code exceptionally} or {@code handle} stages dealt with are not
     * reported. Cancellation is not reported. Costs one dependent stage.
     * <pre>{@code
     * backstop.guard(CompletableFuture.supplyAsync(this::load).thenAccept(this::store));
     * }</pre>
     *
     * @param <S> the type of the stage, kept so that the call can wrap an expression
     * @param stage the last stage of a pipeline
     * @return {@code stage} itself
     * @throws NullPointerException if {@code stage} is null
     */
    public <S extends CompletionStage<?>> S guard(S stage) {
        Objects.requireNonNull(stage, "stage cannot be null");
        stage.whenComplete((value, failure) -> {
            if (failure != null) {
                executors.stageFailed(failure);
            }
        });
        return stage;
    }

    /**
     * Installs a JVM-wide default uncaught-exception handler that reports ({@code source=thread}) and then hands the
     * failure to the handler installed before, if any. Idempotent; undo it with
     * {@link #uninstallUncaughtExceptionHandler()} (a web application must, when it is undeployed). A Backstop has one
     * handler: a filter that joins it and asks for the handler ({@code uncaught-exception-handler}) shares it, so a
     * thread's death is reported once.
     */
    public synchronized void installUncaughtExceptionHandler() {
        heldByApplication = true;
        installIfHeld();
    }

    /**
     * Takes the handler of {@link #installUncaughtExceptionHandler()} out of the chain of default handlers, wherever
     * it stands (the handler it delegated to takes its place). Idempotent.
     */
    public synchronized void uninstallUncaughtExceptionHandler() {
        heldByApplication = false;
        uninstallIfUnheld();
    }

    /**
     * Ends what this Backstop started: takes its uncaught-exception handler out, stops child tasks (new ones are
     * refused; background tasks get up to the grace period, then are interrupted and reported), stops the threads
     * it made, writes the summaries of folded panics still pending, and removes its gauges from the meter registry.
     * Guarded executors, and an executor it was given, stay their owner's. Idempotent; the guarded executors,
     * thread factories and stages keep reporting afterwards.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            heldByApplication = false;
            heldByFilters = 0;
            uninstallIfUnheld();
        }
        tasks.close();
        pipeline.close();
    }

    /**
     * Settings for a {@link Backstop}. Not thread-safe; {@link #build()} copies them.
     */
    public static final class Builder {

        private MeterRegistry meterRegistry = Metrics.globalRegistry;
        private String registrySource;
        private ObservationRegistry observationRegistry;
        private String name = DEFAULT_NAME;
        private boolean propagateMdc = DEFAULT_PROPAGATE_MDC;
        private Duration logStormInterval = DEFAULT_LOG_STORM_INTERVAL;
        private boolean cancelFailedPeriodicTasks = DEFAULT_CANCEL_FAILED_PERIODIC_TASKS;
        private Executor childTaskExecutor;
        private int maxChildTasks = DEFAULT_MAX_CHILD_TASKS;
        private Duration backgroundGracePeriod = DEFAULT_BACKGROUND_GRACE_PERIOD;
        private LongSupplier nanoTime = System::nanoTime;
        private String capSetting = "Backstop.Builder.maxChildTasks (default " + DEFAULT_MAX_CHILD_TASKS + ")";

        private Builder() {
        }

        /**
         * The name of this Backstop: the value of the {@code backstop} tag of its {@code backstop.tasks.active}
         * gauges, which tells apart Backstops that share a meter registry (two applications in one server, say).
         * Default {@value Backstop#DEFAULT_NAME}; a filter that builds its own names it after its context path
         * ({@code /orders}, or {@code /} for the root context).
         *
         * @param name the name; not blank
         * @return this builder
         * @throws NullPointerException if {@code name} is null
         * @throws IllegalArgumentException if {@code name} is blank
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name cannot be null");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name cannot be blank, but was '" + name + "'");
            }
            this.name = name;
            return this;
        }

        /**
         * The executor that runs {@link ChildTasks} and background tasks. Default: a virtual thread per task on
         * Java 21+, a pool of daemon platform threads on Java 17. Backstop never shuts down an executor it was given.
         *
         * @param executor the executor for child and background tasks
         * @return this builder
         * @throws NullPointerException if {@code executor} is null
         */
        public Builder childTaskExecutor(Executor executor) {
            this.childTaskExecutor = Objects.requireNonNull(executor, "executor cannot be null");
            return this;
        }

        /**
         * The application-wide cap on child and background tasks running (or queued) at once; beyond it
         * {@code go} throws {@link java.util.concurrent.RejectedExecutionException} and the rejection is counted.
         * Default {@value Backstop#DEFAULT_MAX_CHILD_TASKS}.
         *
         * @param maxChildTasks the cap; at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code maxChildTasks} is less than 1
         */
        public Builder maxChildTasks(int maxChildTasks) {
            this.maxChildTasks = checkMaxChildTasks(maxChildTasks);
            return this;
        }

        /**
         * How long {@link Backstop#close()} waits for background tasks before interrupting them. Default 5s
         * ({@link Backstop#DEFAULT_BACKGROUND_GRACE_PERIOD}).
         *
         * @param grace the grace period; zero or more
         * @return this builder
         * @throws NullPointerException if {@code grace} is null
         * @throws IllegalArgumentException if {@code grace} is negative
         */
        public Builder backgroundGracePeriod(Duration grace) {
            this.backgroundGracePeriod = checkGrace(grace);
            return this;
        }

        /** The monotonic clock of log-storm windows, in nanoseconds; tests move time instead of waiting for it. */
        Builder nanoTime(LongSupplier nanoTime) {
            this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime cannot be null");
            return this;
        }

        /**
         * A Micrometer {@code ObservationRegistry} (Spring Boot's, say): each panic is also set as the error of its
         * current observation, so that an observation-based tracer or handler sees it. Default: none.
         *
         * @param observationRegistry the registry whose current observation gets each panic
         * @return this builder
         * @throws NullPointerException if {@code observationRegistry} is null
         */
        public Builder observationRegistry(ObservationRegistry observationRegistry) {
            this.observationRegistry = Objects.requireNonNull(observationRegistry,
                    "observationRegistry cannot be null");
            return this;
        }

        /** Where the registry came from, in words, for the line that names it; a filter's own Backstop says. */
        Builder registrySource(String registrySource) {
            this.registrySource = registrySource;
            return this;
        }

        /** How a rejection tells the user to change the cap. */
        Builder capSetting(String capSetting) {
            this.capSetting = capSetting;
            return this;
        }

        /**
         * The registry for Backstop's meters. Default {@code Metrics.globalRegistry}.
         *
         * @param meterRegistry the registry for Backstop's meters
         * @return this builder
         * @throws NullPointerException if {@code meterRegistry} is null
         */
        public Builder meterRegistry(MeterRegistry meterRegistry) {
            this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry cannot be null");
            return this;
        }

        /**
         * Identical panics (same source, exception class and top three stack frames, whatever the request path)
         * are logged with their stack at most once per {@code interval}; the others are
         * counted as always, get a short line each without the stack, and one WARN summary line per interval
         * ({@code backstop.folded.lines}). {@link Duration#ZERO} logs every panic in full. Default 10s
         * ({@link Backstop#DEFAULT_LOG_STORM_INTERVAL}).
         *
         * @param interval the interval; zero or more
         * @return this builder
         * @throws NullPointerException if {@code interval} is null
         * @throws IllegalArgumentException if {@code interval} is negative
         */
        public Builder logStormInterval(Duration interval) {
            this.logStormInterval = checkInterval(interval);
            return this;
        }

        /**
         * Whether guarded executors carry the submitting thread's SLF4J MDC into each task (and clear it after).
         * Default {@value Backstop#DEFAULT_PROPAGATE_MDC}; costs a copy of the MDC per submitted task.
         *
         * @param propagateMdc whether to carry the MDC into tasks
         * @return this builder
         */
        public Builder propagateMdc(boolean propagateMdc) {
            this.propagateMdc = propagateMdc;
            return this;
        }

        /**
         * {@code true} to cancel a periodic task after a failing run, as {@code ScheduledThreadPoolExecutor} does;
         * either way the failure is reported. Default {@value Backstop#DEFAULT_CANCEL_FAILED_PERIODIC_TASKS}: the
         * schedule goes on.
         *
         * @param cancel whether a failing run cancels its periodic task
         * @return this builder
         */
        public Builder cancelFailedPeriodicTasks(boolean cancel) {
            this.cancelFailedPeriodicTasks = cancel;
            return this;
        }

        /**
         * Builds a Backstop from these settings.
         *
         * @return a new Backstop with these settings
         */
        public Backstop build() {
            return new Backstop(this);
        }
    }

    static int checkMaxChildTasks(int value) {
        if (value < 1) {
            throw new IllegalArgumentException("maxChildTasks must be at least 1, but was " + value);
        }
        return value;
    }

    static Duration checkGrace(Duration grace) {
        Objects.requireNonNull(grace, "grace cannot be null");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("backgroundGracePeriod cannot be negative, but was " + grace);
        }
        return grace;
    }
}
