package dev.backstop.internal.pipeline;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Every line Backstop writes, built here, one method per event, so that "change the log format" is one place. All
 * lines go to the logger {@value #LOGGER_NAME}. Everything formatted from user input (messages, paths, names) goes
 * through {@link Texts#escape}. Writing never throws: a backend that fails to render a throwable gets a safe copy of
 * it, and what still fails is counted as an internal failure of stage {@code log} or {@code mdc}. Thread-safe.
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
        Throwable thrown = Classifier.unwrap(failure);
        String line = (kind == Kind.FATAL ? "fatal error " : "panic ") + "errorId=" + errorId + " " + context(where)
                + " exception=" + thrown.getClass().getName()
                + " message=\"" + Texts.escape(Texts.message(thrown), Texts.MAX_TEXT) + "\"";
        error(line, failure, errorId);
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

    /** {@code panics folded: N more like <kind> were not logged one by one; errorIds (sample)=...}, WARN. */
    void foldedSummary(int folded, String kind, List<String> sampleIds) {
        warn("panics folded: " + folded + " more like " + kind + " were not logged one by one; errorIds (sample)="
                + String.join(",", sampleIds), null);
    }

    /** {@code client went away source=... exception=<innermost cause> message="..."}, DEBUG, no stack. */
    void clientAbort(Throwable failure, Capture where) {
        if (debugEnabled()) {
            Throwable cause = Classifier.innermost(failure);
            debug("client went away " + context(where) + " exception=" + cause.getClass().getName() + " message=\""
                    + Texts.escape(Texts.message(cause), Texts.MAX_TEXT) + "\"");
        }
    }

    /** {@code request aborted by the handler source=...}, DEBUG. */
    void abortRequested(Capture where) {
        if (debugEnabled()) {
            debug("request aborted by the handler " + context(where));
        }
    }

    /** {@code backstop <stage> failed while handling errorId=... exception=... message="..."}, ERROR, with stack. */
    void internalFailure(String stage, Throwable failure, String errorId) {
        error("backstop " + stage + " failed while handling errorId=" + errorId + " exception="
                + failure.getClass().getName() + " message=\""
                + Texts.escape(Texts.message(failure), Texts.MAX_TEXT) + "\"", failure, errorId);
    }

    /** {@code backstop could not update a meter: ...}, WARN without stack: the registry's problem is not the request's. */
    void meterFailure(Throwable failure, long notLogged) {
        warnQuietly("backstop could not update a meter: " + failure.getClass().getName() + ": "
                + Texts.escape(Texts.message(failure), Texts.MAX_TEXT)
                + (notLogged > 0 ? " (" + notLogged + " more meter failures since the last line)" : "")
                + "; failures are still logged, and the meters are skipped until the registry works");
    }

    /** {@code backstop.tasks.active for backstop=<name> is already registered ...; this one reports as ...}, WARN. */
    void gaugeNameTaken(String name, String tag) {
        warn("backstop.tasks.active for backstop=" + Texts.escape(name, 128) + " is already registered in this meter "
                + "registry by another Backstop; this one reports as backstop=" + Texts.escape(tag, 128) + ". Give "
                + "each Backstop that shares a registry its own name (Backstop.Builder.name)", null);
    }

    /** {@code child task group leaked: '<group>' opened at <frame> was still open when its request ended ...}, WARN. */
    void groupLeaked(String group, String openedAt, String method, String path, int cancelled, int abandoned) {
        warn("child task group leaked: '" + Texts.escape(group, 128) + "' opened at " + openedAt
                + " was still open when its request ended (method=" + Texts.escape(String.valueOf(method), 32)
                + " path=" + Texts.escape(String.valueOf(path), Texts.MAX_TEXT) + "); " + cancelled
                + " tasks were cancelled" + (abandoned > 0 ? ", " + abandoned + " abandoned" : "")
                + ". Close it with try-with-resources, or wait for it with await() or completion()", null);
    }

    /**
     * {@code child task abandoned: still running <grace> after group '<group>' (opened at <frame>) was closed ...},
     * WARN.
     */
    void taskAbandoned(String grace, String openedAt, Capture where) {
        warn("child task abandoned: still running " + grace + " after its group was closed, and interrupted; the "
                + "request goes on without it " + context(where) + " opened_at=" + openedAt + ". It keeps its slot "
                + "under max-child-tasks until it ends, and what it throws is still reported. Make the task "
                + "respond to interrupts (or give its blocking calls a timeout)", null);
    }

    /** {@code abandoned child task failed: ...}, WARN with stack: a checked failure nobody can observe any more. */
    void abandonedTaskFailed(Throwable failure, Capture where) {
        warn("abandoned child task failed after its group stopped waiting for it " + context(where) + " exception="
                + failure.getClass().getName() + " message=\"" + Texts.escape(Texts.message(failure), Texts.MAX_TEXT)
                + "\"", failure);
    }

    /** {@code abandoned child task ended: outcome=<tag> ...}, DEBUG. */
    void abandonedTaskEnded(String outcome, Capture where) {
        if (debugEnabled()) {
            debug("abandoned child task ended: outcome=" + outcome + " " + context(where));
        }
    }

    /** {@code interrupt flag cleared as the request's dispatch ended ...}, DEBUG. */
    void interruptCleared(Capture where) {
        if (debugEnabled()) {
            debug("interrupt flag cleared as the request's dispatch ended, so that the container's thread does not "
                    + "carry it into its next request " + context(where));
        }
    }

    /** {@code unobserved child task failure: nobody called await(), completion() or get() ...}, WARN, with stack. */
    void unobservedFailure(Throwable failure, Capture where) {
        warn("unobserved child task failure: nobody called await(), completion() or get() after it failed "
                + context(where) + " exception=" + failure.getClass().getName() + " message=\""
                + Texts.escape(Texts.message(failure), Texts.MAX_TEXT) + "\"", failure);
    }

    /** {@code N more unobserved child task failures in group '<group>' were counted but not kept}, WARN. */
    void unobservedNotKept(int count, String group) {
        warn(count + " more unobserved child task failures in group '" + Texts.escape(group, 128)
                + "' were counted but not kept", null);
    }

    /** {@code background task still running when its Backstop was closed, interrupted after ...}, WARN. */
    void backgroundStillRunning(String grace, Capture where) {
        warn("background task still running when its Backstop was closed, interrupted after the " + grace
                + " grace period: " + context(where), null);
    }

    /** The fields that say where: {@code source=... [method=... path=... dispatch=... group=... task=...]}. */
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

    private void error(String line, Throwable failure, String errorId) {
        error(line, failure, errorId, failures);
    }

    /**
     * {@code panic errorId=... source=handler ... exception=... message="..." (after its request ended: ...)}, ERROR,
     * with stack: a failure handed to Backstop for a request that is already over, when nothing is left that knows
     * which Backstop should count it. Logged so that it is not lost; not counted.
     */
    public static String orphan(Throwable failure, Capture where) {
        String errorId = ErrorIds.next();
        error("panic errorId=" + errorId + " " + context(where) + " exception=" + failure.getClass().getName()
                + " message=\"" + Texts.escape(Texts.message(failure), Texts.MAX_TEXT) + "\" (reported after its "
                + "request had ended: not counted, no response)", failure, errorId, null);
        return errorId;
    }

    private static void error(String line, Throwable failure, String errorId, StageFailures failures) {
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
            LOG.error(line, failure);
        } catch (Throwable backendFailed) {
            // The backend could not render the user's throwable (getMessage() threw, a chain too deep for a
            // recursive renderer): log a safe copy so the event is still one ERROR line with a stack.
            if (failures != null) {
                failures.failed("log");
            }
            try {
                LOG.error(line, SafeThrowable.copyOf(failure));
            } catch (Throwable stillFailing) {
                // Nothing left to log with; the counters still record the failure.
            }
        } finally {
            if (mdcSet) {
                restoreMdc(previous);
            }
        }
    }

    private void warn(String line, Throwable failure) {
        try {
            LOG.warn(line, failure);
        } catch (Throwable backendFailed) {
            failures.failed("log");
            try {
                LOG.warn(line, failure == null ? null : SafeThrowable.copyOf(failure));
            } catch (Throwable stillFailing) {
                // Nothing left to log with.
            }
        }
    }

    /** A WARN whose own failure is not counted: used for the meter registry's failures, which cannot be counted. */
    private static void warnQuietly(String line) {
        try {
            LOG.warn(line);
        } catch (Throwable ignored) {
            // Logging failed as well; nothing more can be done safely.
        }
    }

    private static boolean debugEnabled() {
        try {
            return LOG.isDebugEnabled();
        } catch (Throwable backendFailed) {
            return false;
        }
    }

    private static void debug(String line) {
        try {
            LOG.debug(line);
        } catch (Throwable ignored) {
            // Debug lines are best effort.
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
}
