package dev.backstop.internal.pipeline;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The reporting pipeline of one {@code Backstop}: every capture point (the filter, child and background tasks,
 * guarded executors and threads) hands its failures here, and this is the one place that gives a panic its error
 * id, logs it (through {@link LogLines}, folding storms through {@link LogStorms}) and counts it (through
 * {@link Meters}). What has been reported belongs to the caller's report chain, never to a throwable's identity: every
 * call is a new occurrence with a new error id.
 *
 * <p>It never throws: a logger or meter registry that fails is contained, counted in
 * {@code backstop.internal.failures} where the registry still works, and the caller carries on answering the
 * original failure. Thread-safe.
 */
public final class Pipeline {

    /** Default log-storm interval: identical panics are logged with their stack at most once per interval. */
    public static final Duration DEFAULT_LOG_STORM_INTERVAL = Duration.ofSeconds(10);

    /** At most one "could not update a meter" line per this interval. */
    static final long METER_FAILURE_LOG_INTERVAL_NANOS = Duration.ofMinutes(1).toNanos();
    private static final long NEVER = Long.MIN_VALUE;

    private final Meters meters;
    private final ObservationRegistry observations;
    private final LogLines log;
    private final LogStorms storms;
    private final AtomicLong lastMeterFailureLog = new AtomicLong(NEVER);
    private final AtomicLong meterFailuresNotLogged = new AtomicLong();

    /**
     * @param name the Backstop's name, the value of the {@code backstop} tag of its gauges
     * @param logStormInterval see {@link LogStorms}; zero logs every panic in full
     * @param nanoTime the monotonic clock of log-storm windows, {@code System::nanoTime} but in tests
     */
    public Pipeline(MeterRegistry registry, String name, Duration logStormInterval, LongSupplier nanoTime) {
        this(registry, name, logStormInterval, nanoTime, null);
    }

    /** @param observations the registry whose current observation gets each panic's error, or null */
    public Pipeline(MeterRegistry registry, String name, Duration logStormInterval, LongSupplier nanoTime,
            ObservationRegistry observations) {
        this.observations = observations;
        this.meters = new Meters(Objects.requireNonNull(registry, "registry cannot be null"), name);
        this.log = new LogLines(stage -> count(() -> meters.internalFailure(stage)));
        this.storms = new LogStorms(checkInterval(logStormInterval), nanoTime, log::foldedSummary);
        count(() -> {
            String tag = meters.registerGauges();
            if (!tag.equals(name)) {
                log.gaugeNameTaken(name, tag);
            }
        });
        count(meters::registerAtZero);
    }

    /**
     * Says once, at INFO, which registry this Backstop's meters go to, since a wrong guess there is silent; and at
     * WARN when it is {@code Metrics.globalRegistry} with no registry attached, where they go nowhere.
     *
     * @param from where the registry came from, in words (a builder call, a ServletContext attribute, the default)
     */
    public void announceRegistry(String name, MeterRegistry registry, String from) {
        try {
            if (registry == io.micrometer.core.instrument.Metrics.globalRegistry
                    && io.micrometer.core.instrument.Metrics.globalRegistry.getRegistries().isEmpty()) {
                log.noRegistry(name);
            } else {
                log.registry(name, registry.getClass().getName() + "@"
                        + Integer.toHexString(System.identityHashCode(registry)), from);
            }
        } catch (Throwable unreadable) {
            // The announcement is a convenience.
        }
    }

    /** @return {@code interval}, when it is zero or positive */
    public static Duration checkInterval(Duration interval) {
        Objects.requireNonNull(interval, "logStormInterval cannot be null");
        if (interval.isNegative()) {
            throw new IllegalArgumentException("logStormInterval cannot be negative, but was " + interval);
        }
        return interval;
    }

    /**
     * Classifies, logs and counts one failure caught at a request boundary: exactly one ERROR event (or one folded
     * line) and one panic count per panic, a DEBUG line and a count for a client that went away, a DEBUG line for a
     * deliberate abort.
     *
     * @param outputFailed whether the container says writing the response failed (a client that went away)
     */
    public Report report(Throwable failure, Capture where, boolean outputFailed) {
        Kind kind = Classifier.atHandler(failure, outputFailed);
        switch (kind) {
            case PANIC, FATAL -> {
                return panic(failure, where, kind);
            }
            case CLIENT_ABORT -> {
                log.clientAbort(failure, where);
                count(() -> meters.clientAbort(where.source(), failure));
                return new Report(kind, null, failure);
            }
            default -> {
                log.abortRequested(where);
                return new Report(kind, null, failure);
            }
        }
    }

    /** Logs and counts one occurrence of a panic ({@code kind} PANIC or FATAL) with a new error id. */
    public Report panic(Throwable failure, Capture where, Kind kind) {
        String errorId = ErrorIds.next();
        if (log.errorEnabled()) {
            String stackLoggedAs = folded(kind, errorId, failure, where);
            if (stackLoggedAs == null) {
                log.panic(kind, errorId, failure, where);
            } else {
                log.foldedPanic(kind, errorId, failure, where, stackLoggedAs);
            }
        }
        try {
            meters.panic(where.source(), failure);
        } catch (Throwable registryFailed) {
            meterFailed(registryFailed);
        }
        Throwable thrown = unwrapped(failure);
        Flight.panic(errorId, where, thrown, kind == Kind.FATAL);
        Tracing.recordPanic(thrown, errorId);
        observe(failure);
        return new Report(kind, errorId, failure);
    }

    /** The current Micrometer {@code Observation}, when a registry was given, gets the error too. */
    private void observe(Throwable failure) {
        ObservationRegistry registry = observations;
        if (registry == null) {
            return;
        }
        try {
            Observation current = registry.getCurrentObservation();
            if (current != null) {
                current.error(failure);
            }
        } catch (Throwable observationFailed) {
            // A convenience; the panic is logged and counted anyway.
        }
    }

    private static Throwable unwrapped(Throwable failure) {
        try {
            return Classifier.unwrap(failure);
        } catch (Throwable unreadable) {
            return failure;
        }
    }

    /**
     * @return null when this panic is to be logged with its stack; else the error id of the line that has the stack
     *     of its kind, in whose log-storm window it was folded (it still gets a short line of its own)
     */
    private String folded(Kind kind, String errorId, Throwable failure, Capture where) {
        if (!storms.enabled()) {
            return null;
        }
        String stackLoggedAs;
        try {
            // What was thrown, under plain ServletException wrappers (Spring MVC wraps every handler failure in one
            // made at the same place): otherwise every wrapped failure would look identical.
            Throwable thrown = Classifier.unwrap(failure);
            stackLoggedAs = storms.admit(where, thrown, errorId,
                    () -> LogLines.foldedKind(kind, errorId, thrown, where));
        } catch (Throwable limiterFailed) {
            return null; // log it in full
        }
        if (stackLoggedAs != null) {
            count(() -> meters.foldedLine(where.source()));
        }
        return stackLoggedAs;
    }

    /**
     * Whether a repeated line is written now, or folded into its log-storm window's summary (counted exactly there).
     * Never throws: a limiter that fails lets the line through.
     */
    private boolean admitted(String category, String identity, String path, LogStorms.Describer describe) {
        try {
            return storms.admitRepeat(category, identity, path, describe);
        } catch (Throwable limiterFailed) {
            return true;
        }
    }

    /** Counts a finished child task. */
    public void task(TaskKind kind, TaskOutcome outcome) {
        try {
            meters.task(kind, outcome); // no lambda: this runs once per task
        } catch (Throwable registryFailed) {
            meterFailed(registryFailed);
        }
    }

    /** The running-task count of {@code kind} behind this Backstop's {@code backstop.tasks.active} gauge. */
    public AtomicInteger active(TaskKind kind) {
        return meters.active(kind);
    }

    /** Counts what the client got after a failure ({@code backstop.responses}). */
    public void response(String outcome, Kind reason) {
        try {
            meters.response(outcome, reason);
        } catch (Throwable registryFailed) {
            meterFailed(registryFailed);
        }
    }

    /**
     * Reports a failure of Backstop's own machinery (such as an error responder that threw) once, at ERROR, tied to
     * the error id of the failure it was handling.
     */
    public void internalFailure(String stage, Throwable failure, String errorId) {
        if (admitted("internal_failure", stage + ' ' + failure.getClass().getName(), null,
                () -> "backstop " + stage + " failed, exception=" + failure.getClass().getName())) {
            log.internalFailure(stage, failure, errorId);
        }
        count(() -> meters.internalFailure(stage));
    }

    /** A child-task group was still open when its request ended: counted and logged at WARN. */
    public void groupLeaked(String group, String openedAt, String method, String path, int cancelled,
            int abandoned) {
        count(meters::leakedGroup);
        if (admitted("group_leaked", group + ' ' + openedAt, path,
                () -> "child task group leaked: '" + Texts.escape(group, 128) + "' opened at " + openedAt)) {
            log.groupLeaked(group, openedAt, method, path, cancelled, abandoned);
        }
        Flight.groupLeaked(group, openedAt, method, path);
    }

    /**
     * A child task still running when its group's grace period ran out: counted as {@code abandoned} and logged at
     * WARN.
     */
    public void taskAbandoned(Duration grace, String openedAt, Capture where) {
        count(() -> meters.task(TaskKind.SCOPED, TaskOutcome.ABANDONED));
        if (admitted("task_abandoned", where.group() + ' ' + openedAt, where.path(),
                () -> "child task abandoned in group '" + Texts.escape(String.valueOf(where.group()), 128)
                        + "' opened at " + openedAt)) {
            log.taskAbandoned(String.valueOf(grace), openedAt, where);
        }
        Flight.taskAbandoned(where, openedAt);
    }

    /**
     * An abandoned child task ended: a checked failure is logged at WARN (a panic was reported when it happened);
     * any other end at DEBUG. Not counted again: {@code abandoned} was its outcome.
     */
    public void abandonedTaskEnded(TaskOutcome outcome, Throwable failure, Capture where) {
        if (outcome == TaskOutcome.FAILURE && failure != null) {
            if (admitted("abandoned_task_failed", where.group() + ' ' + failure.getClass().getName(), where.path(),
                    () -> "abandoned child task failed in group '" + Texts.escape(String.valueOf(where.group()), 128)
                            + "' exception=" + failure.getClass().getName())) {
                log.abandonedTaskFailed(failure, where);
            }
        } else {
            log.abandonedTaskEnded(outcome.tag(), where);
        }
    }

    /** The filter cleared an interrupt flag left on a request thread: DEBUG. */
    public void interruptCleared(Capture where) {
        log.interruptCleared(where);
    }

    /** A checked child failure that nobody observed before its group closed: logged at WARN with its stack. */
    public void unobservedFailure(Throwable failure, Capture where) {
        if (admitted("unobserved_failure", where.group() + ' ' + failure.getClass().getName(), where.path(),
                () -> "unobserved child task failure in group '" + Texts.escape(String.valueOf(where.group()), 128)
                        + "' exception=" + failure.getClass().getName())) {
            log.unobservedFailure(failure, where);
        }
    }

    /** More unobserved failures than a group keeps. */
    public void unobservedNotKept(int count, String group) {
        log.unobservedNotKept(count, group);
    }

    /** A background task outlived the grace period of its Backstop's close and is interrupted. */
    public void backgroundStillRunning(Duration grace, Capture where) {
        if (admitted("background_still_running", String.valueOf(where.task()), where.path(),
                () -> "background task still running at close, task=" + Texts.escape(String.valueOf(where.task()),
                        128))) {
            log.backgroundStillRunning(String.valueOf(grace), where);
        }
    }

    /** Writes the summaries of folded panics still pending. Never throws. */
    public void flush() {
        try {
            storms.flush();
        } catch (Throwable ignored) {
            // Summaries are best effort; the counters hold the exact figures.
        }
    }

    /** Writes what is pending and removes this pipeline's gauges from the registry. Never throws. */
    public void close() {
        flush();
        count(meters::close);
    }

    private void count(Runnable increment) {
        try {
            increment.run();
        } catch (Throwable registryFailed) {
            meterFailed(registryFailed);
        }
    }

    /**
     * A broken meter registry must not break the answer to the user's failure, nor flood the log: the first failure
     * is logged at WARN, then at most one line a minute, saying how many more there were.
     */
    private void meterFailed(Throwable registryFailed) {
        long now = System.nanoTime();
        long last = lastMeterFailureLog.get();
        if (last != NEVER && now - last < METER_FAILURE_LOG_INTERVAL_NANOS
                || !lastMeterFailureLog.compareAndSet(last, now)) {
            meterFailuresNotLogged.incrementAndGet();
            return;
        }
        log.meterFailure(registryFailed, meterFailuresNotLogged.getAndSet(0));
    }
}
