package dev.backstop.internal;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The reporting pipeline: the one place that classifies a failure, gives it an error id, logs it and counts it.
 * Capture points (the filter now; child tasks, executors and threads later) hand failures here and nothing else.
 *
 * <p>It never throws: a logger or meter registry that fails is contained, counted in
 * {@code backstop.internal.failures} where the registry still works, and the caller carries on answering the
 * original failure. Thread-safe; one instance serves every request of a filter.
 */
public final class Reporter {

    /** The logger every report goes to. */
    public static final String LOGGER_NAME = "dev.backstop";

    /** MDC key holding the error id while a panic is logged. */
    public static final String MDC_ERROR_ID = "errorId";

    private static final Logger LOG = LoggerFactory.getLogger(LOGGER_NAME);

    /** Default log-storm interval: identical panics are logged with their stack at most once per interval. */
    public static final Duration DEFAULT_LOG_STORM_INTERVAL = Duration.ofSeconds(10);

    /** At most one "could not update a meter" line per this interval. */
    static final Duration METER_FAILURE_LOG_INTERVAL = Duration.ofMinutes(1);
    private static final long NEVER = Long.MIN_VALUE;

    private final Meters meters;
    private final LogStorms storms;
    private final AtomicLong lastMeterFailureLog = new AtomicLong(NEVER);
    private final AtomicLong meterFailuresNotLogged = new AtomicLong();

    public Reporter(MeterRegistry registry) {
        this(registry, DEFAULT_LOG_STORM_INTERVAL);
    }

    /** @param logStormInterval see {@link LogStorms}; zero logs every panic in full */
    public Reporter(MeterRegistry registry, Duration logStormInterval) {
        this.meters = new Meters(Objects.requireNonNull(registry, "registry cannot be null"));
        this.storms = new LogStorms(checkInterval(logStormInterval), line -> warn(line, null));
    }

    /** @return {@code interval}, when it is zero or positive */
    public static Duration checkInterval(Duration interval) {
        Objects.requireNonNull(interval, "logStormInterval cannot be null");
        if (interval.isNegative()) {
            throw new IllegalArgumentException("logStormInterval cannot be negative, but was " + interval);
        }
        return interval;
    }

    /** Writes the summaries of folded panics still pending; at shutdown. Never throws. */
    public void flushFolded() {
        try {
            storms.flush();
        } catch (Throwable ignored) {
            // Summaries are best effort; the counters hold the exact figures.
        }
    }

    /**
     * Classifies, logs and counts one failure caught at a request boundary. Exactly one ERROR event and one panic
     * count per panic: a failure that a task already reported (or that carries one in its cause chain) is answered
     * with the task's report and not recorded again.
     */
    public Report report(Throwable failure, Capture where) {
        Report earlier = ReportedFailures.find(failure);
        if (earlier != null) {
            return earlier;
        }
        Kind kind = Classifier.classify(failure);
        switch (kind) {
            case PANIC, FATAL -> {
                String errorId = ErrorIds.next();
                logPanic(kind, errorId, failure, where);
                count(() -> meters.panic(where.source(), failure));
                return new Report(kind, errorId);
            }
            case CLIENT_ABORT -> {
                if (LOG.isDebugEnabled()) {
                    logQuietly("client went away " + context(where) + " exception=" + failure.getClass().getName());
                }
                count(() -> meters.clientAbort(where.source(), failure));
                return new Report(kind, null);
            }
            default -> {
                if (LOG.isDebugEnabled()) {
                    logQuietly("request aborted by the handler " + context(where));
                }
                return new Report(kind, null);
            }
        }
    }

    /**
     * Logs and counts a failure caught in a task's own thread, away from any response: it is a panic (or fatal),
     * never a client abort. The report is remembered, so the failure is not recorded again when it reaches the
     * filter through {@code await()}.
     */
    public Report reportTask(Throwable failure, Capture where) {
        Report earlier = ReportedFailures.find(failure);
        if (earlier != null) {
            return earlier;
        }
        return reportAgain(failure, where);
    }

    /**
     * Like {@link #reportTask}, without asking whether this very throwable was reported before: for a periodic task,
     * whose every failing run is a failure of its own even when it throws the same object each time.
     */
    public Report reportAgain(Throwable failure, Capture where) {
        Throwable unwrapped = Classifier.unwrap(failure);
        Kind kind = unwrapped instanceof VirtualMachineError && !(unwrapped instanceof StackOverflowError)
                ? Kind.FATAL : Kind.PANIC;
        String errorId = ErrorIds.next();
        logPanic(kind, errorId, failure, where);
        count(() -> meters.panic(where.source(), failure));
        Report report = new Report(kind, errorId);
        ReportedFailures.remember(failure, report);
        return report;
    }

    /** Counts a finished child task. */
    public void task(TaskKind kind, TaskOutcome outcome) {
        count(() -> meters.task(kind, outcome));
    }

    /** Counts a group that was still open when its request ended. */
    public void leakedGroup() {
        count(() -> meters.leakedGroup());
    }

    /** The running-task count of {@code kind} behind the {@code backstop.tasks.active} gauge. */
    public AtomicInteger active(TaskKind kind) {
        try {
            return meters.active(kind);
        } catch (Throwable registryFailed) {
            meterFailed(registryFailed);
            // Not on the gauge, but the task still runs and is still counted when it ends.
            return new AtomicInteger();
        }
    }

    /** One WARN event on the Backstop logger, with a stack when {@code failure} is not null. Never throws. */
    public void warn(String line, Throwable failure) {
        try {
            LOG.warn(line, failure);
        } catch (Throwable backendFailed) {
            count(() -> meters.internalFailure("log"));
            try {
                LOG.warn(line, failure == null ? null : SafeThrowable.copyOf(failure));
            } catch (Throwable stillFailing) {
                // Nothing left to log with.
            }
        }
    }

    /** Counts what the client got after a failure ({@code backstop.responses}). */
    public void response(String outcome, Kind reason) {
        count(() -> meters.response(outcome, reason));
    }

    /**
     * Reports a failure of Backstop's own machinery (such as an error responder that threw) once, at ERROR, tied to
     * the error id of the failure it was handling.
     */
    public void internalFailure(String stage, Throwable failure, String errorId) {
        String line = "backstop " + stage + " failed while handling errorId=" + errorId + " exception="
                + failure.getClass().getName() + " message=\""
                + Texts.escape(Texts.message(failure), Texts.MAX_TEXT) + "\"";
        logError(line, failure, errorId);
        count(() -> meters.internalFailure(stage));
    }

    private void logPanic(Kind kind, String errorId, Throwable failure, Capture where) {
        if (!errorEnabled()) {
            return; // nothing would be written: skip the formatting (the counters still record the panic)
        }
        if (folded(kind, errorId, failure, where)) {
            return;
        }
        String line = (kind == Kind.FATAL ? "fatal error " : "panic ") + "errorId=" + errorId + " " + context(where)
                + " exception=" + failure.getClass().getName()
                + " message=\"" + Texts.escape(Texts.message(failure), Texts.MAX_TEXT) + "\"";
        logError(line, failure, errorId);
    }

    /** True when the log-storm limiter folded this panic into a summary instead of a line of its own. */
    private boolean folded(Kind kind, String errorId, Throwable failure, Capture where) {
        if (!storms.enabled()) {
            return false;
        }
        try {
            // What was thrown, under plain ServletException wrappers (Spring MVC wraps every handler failure in one
            // made at the same place): otherwise every wrapped failure would look identical.
            Throwable thrown = Classifier.unwrap(failure);
            if (storms.admit(where.source(), thrown, errorId, () -> describe(kind, errorId, thrown, where))) {
                return false;
            }
        } catch (Throwable limiterFailed) {
            return false; // log it in full
        }
        count(() -> meters.foldedLine(where.source()));
        return true;
    }

    private static String describe(Kind kind, String errorId, Throwable failure, Capture where) {
        StringBuilder out = new StringBuilder(160).append(kind == Kind.FATAL ? "fatal error" : "panic")
                .append(" errorId=").append(errorId)
                .append(" (source=").append(where.source().tag())
                .append(" exception=").append(failure.getClass().getName());
        try {
            StackTraceElement[] stack = failure.getStackTrace();
            if (stack != null && stack.length > 0 && stack[0] != null) {
                out.append(" at=").append(Texts.escape(stack[0].toString(), Texts.MAX_TEXT));
            }
        } catch (RuntimeException unreadable) {
            // No frame to quote.
        }
        return out.append(')').toString();
    }

    private boolean errorEnabled() {
        try {
            return LOG.isErrorEnabled();
        } catch (Throwable backendFailed) {
            return true; // let logError() meet the failure and count it
        }
    }

    static String context(Capture where) {
        StringBuilder out = new StringBuilder(96).append("source=").append(where.source().tag());
        if (where.method() != null) {
            out.append(" method=").append(Texts.escape(where.method(), 32));
        }
        if (where.path() != null) {
            out.append(" path=").append(Texts.escape(where.path(), Texts.MAX_TEXT));
        }
        if (where.dispatch() != null) {
            out.append(" dispatch=").append(where.dispatch());
        }
        if (where.group() != null) {
            out.append(" group=").append(Texts.escape(where.group(), 128));
        }
        if (where.task() != null) {
            out.append(" task=").append(Texts.escape(where.task(), 128));
        }
        return out.toString();
    }

    private void logError(String line, Throwable failure, String errorId) {
        // The MDC is a convenience (the line carries the id too): an adapter that fails must not cost the line.
        boolean mdcSet = false;
        String previous = null;
        try {
            previous = MDC.get(MDC_ERROR_ID);
            MDC.put(MDC_ERROR_ID, errorId);
            mdcSet = true;
        } catch (Throwable mdcFailed) {
            count(() -> meters.internalFailure("mdc"));
        }
        try {
            LOG.error(line, failure);
        } catch (Throwable backendFailed) {
            // The backend could not render the user's throwable (getMessage() threw, a chain too deep for a
            // recursive renderer): log a safe copy so the panic is still one ERROR event with a stack.
            count(() -> meters.internalFailure("log"));
            try {
                LOG.error(line, SafeThrowable.copyOf(failure));
            } catch (Throwable stillFailing) {
                // Nothing left to log with; the counters still record the panic.
            }
        } finally {
            if (mdcSet) {
                restoreMdc(previous);
            }
        }
    }

    private static void restoreMdc(String previous) {
        try {
            if (previous == null) {
                MDC.remove(MDC_ERROR_ID);
            } else {
                MDC.put(MDC_ERROR_ID, previous);
            }
        } catch (Throwable ignored) {
            // An MDC adapter that throws has nothing for us to restore.
        }
    }

    private static void logQuietly(String line) {
        try {
            LOG.debug(line);
        } catch (Throwable ignored) {
            // Debug lines are best effort.
        }
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
     * is logged at WARN (without a stack: the registry's problem is not the request's), then at most one line per
     * {@link #METER_FAILURE_LOG_INTERVAL}, saying how many more there were.
     */
    private void meterFailed(Throwable registryFailed) {
        long now = System.nanoTime();
        long last = lastMeterFailureLog.get();
        if (last != NEVER && now - last < METER_FAILURE_LOG_INTERVAL.toNanos()
                || !lastMeterFailureLog.compareAndSet(last, now)) {
            meterFailuresNotLogged.incrementAndGet();
            return;
        }
        long more = meterFailuresNotLogged.getAndSet(0);
        try {
            LOG.warn("backstop could not update a meter: " + registryFailed.getClass().getName() + ": "
                    + Texts.escape(Texts.message(registryFailed), Texts.MAX_TEXT)
                    + (more > 0 ? " (" + more + " more meter failures since the last line)" : "")
                    + "; failures are still logged, and the meters are skipped until the registry works");
        } catch (Throwable ignored) {
            // Logging failed as well; nothing more can be done safely.
        }
    }
}
