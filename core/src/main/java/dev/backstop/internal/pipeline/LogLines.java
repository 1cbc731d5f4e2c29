package dev.backstop.internal.pipeline;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Every line Backstop writes, built here, one method per event, so that "change the log format" is one place (the
 * catalogue in {@code docs/log-catalogue.md} lists them). All lines go to the logger {@value #LOGGER_NAME}. Each
 * line is text for people ({@code panic errorId=... source=...}) and carries the same fields as SLF4J key-value
 * pairs ({@code event}, {@code errorId}, {@code source}, ...), which a JSON encoder writes as fields. Everything
 * formatted from user input (messages, paths, names) goes through {@link Texts#escape}. Writing never throws: a
 * backend that fails to render a throwable gets a safe copy of it, and what still fails is counted as an internal
 * failure of stage {@code log} or {@code mdc}. Thread-safe.
 */
public final class LogLines {

    /** The logger every line goes to. */
    public static final String LOGGER_NAME = "dev.backstop";

    /** MDC key holding the error id while a panic is logged. */
    public static final String MDC_ERROR_ID = "errorId";

    private static final Logger LOG = LoggerFactory.getLogger(LOGGER_NAME);

    /** Counts a failure of Backstop's own logging ({@code log}, {@code mdc}). */
    @FunctionalInterface
    interface StageFailures {
        void failed(String stage);
    }

    private final StageFailures failures;

    LogLines(StageFailures failures) {
        this.failures = failures;
    }

    /** @return whether an ERROR line would be written at all; when not, callers skip the formatting */
    boolean errorEnabled() {
        try {
            return LOG.isErrorEnabled();
        } catch (Throwable backendFailed) {
            return true; // let the write meet the failure and count it
        }
    }

    /**
     * {@code panic errorId=... source=... [method= path= dispatch= group= task=] exception=... message="..."}, ERROR,
     * with the whole throwable attached. {@code exception} and {@code message} name what was thrown under plain
     * {@code ServletException} wrappers, as the meter's tag does: behind Spring or Jersey, not the wrapper.
     */
    void panic(Kind kind, String errorId, Throwable failure, Capture where) {
        error(panicLine(kind, errorId, failure, where), failure, errorId, failures);
    }

    /**
     * A panic folded by the log-storm limiter: the same line without the stack, ending
     * {@code folded=true stackLoggedAs=<error id of the line with the stack>}, ERROR. Every error id stays findable.
     */
    void foldedPanic(Kind kind, String errorId, Throwable failure, Capture where, String stackLoggedAs) {
        error(panicLine(kind, errorId, failure, where).field("folded", "true").field("stackLoggedAs", stackLoggedAs),
                null, errorId, failures);
    }

    private static Line panicLine(Kind kind, String errorId, Throwable failure, Capture where) {
        Throwable thrown = Classifier.unwrap(failure);
        Line line = new Line(kind == Kind.FATAL ? "fatal" : "panic", kind == Kind.FATAL ? "fatal error" : "panic")
                .field("errorId", errorId).where(where);
        String[] trace = Tracing.currentIds();
        if (trace != null) {
            line.field("traceId", trace[0]).field("spanId", trace[1]);
        }
        return line.field("exception", thrown.getClass().getName())
                .quoted("message", Texts.message(thrown));
    }

    /**
     * What a folded-panic summary says about the kind it folded:
     * {@code panic errorId=<first> (source=... exception=... at=<top frame>)}.
     */
    static String foldedKind(Kind kind, String errorId, Throwable failure, Capture where) {
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

    /** Longest a path quoted in a summary may be; a summary names up to {@value LogStorms#SAMPLED_PATHS}. */
    static final int SUMMARY_PATH_CHARS = 256;

    /**
     * The summary of a log-storm window, WARN. For panics: {@code panics folded: N more like <kind> within <interval>
     * paths=... errorIds (sample)=...}; for other lines: {@code lines folded: N more <category> lines like <first>
     * within <interval> paths=...}.
     */
    void foldedSummary(LogStorms.Summary summary) {
        boolean panics = LogStorms.PANIC.equals(summary.category());
        Line line = new Line(panics ? "panics_folded" : "lines_folded", (panics ? "panics folded: " + summary.folded()
                + " more like " + summary.description() : "lines folded: " + summary.folded() + " more "
                + summary.category() + " lines like: " + summary.description())
                + " within " + summary.interval());
        line.kv("count", summary.folded());
        if (!panics) {
            line.kv("folded", summary.category());
        }
        if (!summary.paths().isEmpty()) {
            // Clients choose paths: each is escaped, and cut shorter than a line's own path, as there are up to five.
            StringBuilder paths = new StringBuilder();
            for (String path : summary.paths()) {
                paths.append(paths.length() == 0 ? "" : ",").append(Texts.escape(path, SUMMARY_PATH_CHARS));
            }
            if (summary.otherPaths() > 0) {
                paths.append(" and ").append(summary.otherPaths()).append(summary.atLeast() ? "+" : "").append(" more");
            }
            line.field("paths", paths.toString());
        }
        if (!summary.sampleIds().isEmpty()) {
            line.text(" errorIds (sample)=" + String.join(",", summary.sampleIds()));
            line.kv("errorIds", String.join(",", summary.sampleIds()));
        }
        emit(Level.WARN, line, null, failures);
    }

    /** {@code client went away source=... exception=<innermost cause> message="..."}, DEBUG, no stack. */
    void clientAbort(Throwable failure, Capture where) {
        if (debugEnabled()) {
            Throwable cause = Classifier.innermost(failure);
            emit(Level.DEBUG, new Line("client_abort", "client went away").where(where)
                    .field("exception", cause.getClass().getName()).quoted("message", Texts.message(cause)), null,
                    null);
        }
    }

    /** {@code request aborted by the handler source=...}, DEBUG. */
    void abortRequested(Capture where) {
        if (debugEnabled()) {
            emit(Level.DEBUG, new Line("abort_requested", "request aborted by the handler").where(where), null, null);
        }
    }

    /** {@code backstop <stage> failed while handling errorId=... exception=... message="..."}, ERROR, with stack. */
    void internalFailure(String stage, Throwable failure, String errorId) {
        error(new Line("internal_failure", "backstop " + stage + " failed while handling").kv("stage", stage)
                .field("errorId", errorId).field("exception", failure.getClass().getName())
                .quoted("message", Texts.message(failure)), failure, errorId, failures);
    }

    /** {@code backstop could not update a meter: ...}, WARN without stack: the registry's problem is not the request's. */
    void meterFailure(Throwable failure, long notLogged) {
        emit(Level.WARN, new Line("meter_failure", "backstop could not update a meter: " + failure.getClass().getName()
                + ": " + Texts.escape(Texts.message(failure), Texts.MAX_TEXT)
                + (notLogged > 0 ? " (" + notLogged + " more meter failures since the last line)" : "")
                + "; failures are still logged, and the meters are skipped until the registry works")
                .kv("exception", failure.getClass().getName()).kv("notLogged", notLogged), null, null);
    }

    /** {@code backstop.tasks.active for backstop=<name> is already registered ...; this one reports as ...}, WARN. */
    void gaugeNameTaken(String name, String tag) {
        emit(Level.WARN, new Line("gauge_name_taken", "backstop.tasks.active for backstop=" + Texts.escape(name, 128)
                + " is already registered in this meter registry by another Backstop; this one reports as backstop="
                + Texts.escape(tag, 128) + ". Give each Backstop that shares a registry its own name "
                + "(Backstop.Builder.name)").kv("backstop", tag), null, failures);
    }

    /**
     * {@code backstop '<name>' reports to <registry> (<where from>)}, INFO, once when a Backstop is built: which
     * registry its meters go to, since a wrong guess there is silent.
     */
    void registry(String name, String registry, String from) {
        emit(Level.INFO, new Line("registry", "backstop '" + Texts.escape(name, 128) + "' reports to " + registry
                + " (" + from + ")").kv("backstop", name).kv("registry", registry), null, failures);
    }

    /**
     * {@code backstop '<name>' reports to Metrics.globalRegistry, which has no registry attached: ...}, WARN: its
     * counters go nowhere.
     */
    void noRegistry(String name) {
        emit(Level.WARN, new Line("no_registry", "backstop '" + Texts.escape(name, 128) + "' reports to "
                + "Metrics.globalRegistry, which has no registry attached: its meters are kept nowhere a scrape can "
                + "see. Give it your registry (meterRegistry(...), or the meter-registry-attribute init-param naming "
                + "a ServletContext attribute that holds one), or add one to Metrics.globalRegistry")
                .kv("backstop", name), null, failures);
    }

    /** {@code child task group leaked: '<group>' opened at <frame> was still open when its request ended ...}, WARN. */
    void groupLeaked(String group, String openedAt, String method, String path, int cancelled, int abandoned) {
        emit(Level.WARN, new Line("group_leaked", "child task group leaked: '" + Texts.escape(group, 128)
                + "' opened at " + openedAt + " was still open when its request ended")
                .kv("group", group).kv("openedAt", openedAt)
                .text(" (").field0("method", Texts.escape(String.valueOf(method), 32))
                .field("path", Texts.escape(String.valueOf(path), Texts.MAX_TEXT)).text("); ")
                .text(cancelled + " tasks were cancelled" + (abandoned > 0 ? ", " + abandoned + " abandoned" : "")
                        + ". Close it with try-with-resources, or wait for it with await() or completion()")
                .kv("cancelled", cancelled).kv("abandoned", abandoned), null, failures);
    }

    /** {@code child task abandoned: still running <grace> after its group was closed ...}, WARN. */
    void taskAbandoned(String grace, String openedAt, Capture where) {
        emit(Level.WARN, new Line("task_abandoned", "child task abandoned: still running " + grace + " after its "
                + "group was closed, and interrupted; the request goes on without it").where(where)
                .field("openedAt", openedAt).kv("grace", grace)
                .text(". It keeps its slot under max-child-tasks until it ends, and what it throws is still reported. "
                        + "Make the task respond to interrupts (or give its blocking calls a timeout)"), null,
                failures);
    }

    /** {@code abandoned child task failed ...}, WARN with stack: a checked failure nobody can observe any more. */
    void abandonedTaskFailed(Throwable failure, Capture where) {
        emit(Level.WARN, new Line("abandoned_task_failed", "abandoned child task failed after its group stopped "
                + "waiting for it").where(where).field("exception", failure.getClass().getName())
                .quoted("message", Texts.message(failure)), failure, failures);
    }

    /** {@code abandoned child task ended: outcome=<tag> ...}, DEBUG. */
    void abandonedTaskEnded(String outcome, Capture where) {
        if (debugEnabled()) {
            emit(Level.DEBUG, new Line("abandoned_task_ended", "abandoned child task ended:").field("outcome", outcome)
                    .where(where), null, null);
        }
    }

    /** {@code interrupt flag cleared as the request's dispatch ended ...}, DEBUG. */
    void interruptCleared(Capture where) {
        if (debugEnabled()) {
            emit(Level.DEBUG, new Line("interrupt_cleared", "interrupt flag cleared as the request's dispatch ended, "
                    + "so that the container's thread does not carry it into its next request").where(where), null,
                    null);
        }
    }

    /** {@code unobserved child task failure: nobody called await(), completion() or get() ...}, WARN, with stack. */
    void unobservedFailure(Throwable failure, Capture where) {
        emit(Level.WARN, new Line("unobserved_failure", "unobserved child task failure: nobody called await(), "
                + "completion() or get() after it failed").where(where)
                .field("exception", failure.getClass().getName()).quoted("message", Texts.message(failure)), failure,
                failures);
    }

    /** {@code N more unobserved child task failures in group '<group>' were counted but not kept}, WARN. */
    void unobservedNotKept(int count, String group) {
        emit(Level.WARN, new Line("unobserved_not_kept", count + " more unobserved child task failures in group '"
                + Texts.escape(group, 128) + "' were counted but not kept").kv("count", count).kv("group", group),
                null, failures);
    }

    /** {@code background task still running when its Backstop was closed, interrupted after ...}, WARN. */
    void backgroundStillRunning(String grace, Capture where) {
        emit(Level.WARN, new Line("background_still_running", "background task still running when its Backstop was "
                + "closed, interrupted after the " + grace + " grace period:").where(where).kv("grace", grace), null,
                failures);
    }

    /**
     * {@code panic errorId=... source=handler ... exception=... message="..." (after its request ended: ...)}, ERROR,
     * with stack: a failure handed to Backstop for a request that is already over, when nothing is left that knows
     * which Backstop should count it. Logged so that it is not lost; not counted.
     */
    public static String orphan(Throwable failure, Capture where) {
        String errorId = ErrorIds.next();
        error(new Line("panic", "panic").field("errorId", errorId).where(where)
                .field("exception", failure.getClass().getName()).quoted("message", Texts.message(failure))
                .text(" (reported after its request had ended: not counted, no response)").kv("counted", false),
                failure, errorId, null);
        return errorId;
    }

    /** The fields that say where: {@code source=... [method=... path=... dispatch=... group=... task=...]}. */
    static String context(Capture where) {
        return new Line(null, "").where(where).text.substring(1);
    }

    private static void error(Line line, Throwable failure, String errorId, StageFailures failures) {
        // The MDC is a convenience (the line carries the id too): an adapter that fails must not cost the line.
        boolean mdcSet = false;
        String previous = null;
        try {
            previous = MDC.get(MDC_ERROR_ID);
            MDC.put(MDC_ERROR_ID, errorId);
            mdcSet = true;
        } catch (Throwable mdcFailed) {
            if (failures != null) {
                failures.failed("mdc");
            }
        }
        try {
            emit(Level.ERROR, line, failure, failures);
        } finally {
            if (mdcSet) {
                restoreMdc(previous);
            }
        }
    }

    /**
     * Writes one line with its key-value pairs. A backend that cannot render the user's throwable (getMessage()
     * threw, a chain too deep for a recursive renderer) gets a safe copy of it, so the event is still one line with a
     * stack.
     */
    private static void emit(Level level, Line line, Throwable failure, StageFailures failures) {
        try {
            line.log(LOG.atLevel(level), failure);
        } catch (Throwable backendFailed) {
            if (failures != null) {
                failures.failed("log");
            }
            try {
                line.log(LOG.atLevel(level), failure == null ? null : SafeThrowable.copyOf(failure));
            } catch (Throwable stillFailing) {
                // Nothing left to log with; the counters still record the failure.
            }
        }
    }

    private static boolean debugEnabled() {
        try {
            return LOG.isDebugEnabled();
        } catch (Throwable backendFailed) {
            return false;
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

    /**
     * One line: its text, {@code key=value} fields in it, and the same fields (plus an {@code event} name) as
     * key-value pairs. Values are escaped once and used for both. Not thread-safe; made and written by one thread.
     */
    static final class Line {
        private final StringBuilder text;
        private final List<Object> pairs = new ArrayList<>(20);

        Line(String event, String start) {
            this.text = new StringBuilder(192).append(start);
            if (event != null) {
                kv("event", event);
            }
        }

        /** Appends {@code " key=value"} and the pair; a null value is left out. */
        Line field(String key, String value) {
            if (value != null) {
                text.append(' ');
                field0(key, value);
            }
            return this;
        }

        /** Appends {@code "key=value"} (no space before) and the pair. */
        Line field0(String key, String value) {
            text.append(key).append('=').append(value);
            return kv(key, value);
        }

        /** Appends {@code " key=\"value\""}, the value escaped and cut at {@link Texts#MAX_TEXT}, and the pair. */
        Line quoted(String key, String raw) {
            String value = Texts.escape(raw, Texts.MAX_TEXT);
            text.append(' ').append(key).append("=\"").append(value).append('"');
            return kv(key, value);
        }

        /** The fields of {@code where}: {@code source=... [method=... path=... dispatch=... group=... task=...]}. */
        Line where(Capture where) {
            field("source", where.source().tag());
            if (where.method() != null) {
                field("method", Texts.escape(where.method(), 32));
            }
            if (where.path() != null) {
                field("path", Texts.escape(where.path(), Texts.MAX_TEXT));
            }
            field("dispatch", where.dispatch());
            if (where.group() != null) {
                field("group", Texts.escape(where.group(), 128));
            }
            if (where.task() != null) {
                field("task", Texts.escape(where.task(), 128));
            }
            return this;
        }

        Line text(String more) {
            text.append(more);
            return this;
        }

        /** A pair that is not in the text (or is in it in another form). */
        Line kv(String key, Object value) {
            pairs.add(key);
            pairs.add(value);
            return this;
        }

        void log(LoggingEventBuilder builder, Throwable failure) {
            builder.setMessage(text.toString());
            for (int i = 0; i < pairs.size(); i += 2) {
                builder.addKeyValue((String) pairs.get(i), pairs.get(i + 1));
            }
            if (failure != null) {
                builder.setCause(failure);
            }
            builder.log();
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }
}
