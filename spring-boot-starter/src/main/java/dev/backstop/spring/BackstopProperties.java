package dev.backstop.spring;

import dev.backstop.Backstop;
import dev.backstop.RecoveryFilter;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Backstop's settings under {@code backstop.*}: one property for every init-param of {@link RecoveryFilter} that
 * applies to a Spring Boot application, plus {@code backstop.enabled}. The defaults are core's, the {@code DEFAULT_*}
 * constants of {@link RecoveryFilter} and {@link Backstop}, written out as literals so that the configuration
 * processor can put them in the IDE metadata (a test holds them equal). Values are checked when the {@code Backstop} and the
 * filter are built, so a bad one stops the application from starting with a message that names it.
 *
 * <p>A mutable bean, bound once by Spring at startup; not for use from several threads.
 */
@ConfigurationProperties("backstop")
public class BackstopProperties {

    /** Properties with the defaults of {@code backstop-core}; Spring binds the {@code backstop.*} ones over them. */
    public BackstopProperties() {
    }

    /**
     * Whether Backstop is auto-configured: the Backstop bean, RecoveryFilter first in the filter chain, and the
     * reporting of task executor, scheduler, @Async and @Scheduled failures.
     */
    private boolean enabled = true;

    /**
     * Whether problem+json bodies carry the exception class, message and stack trace (text bodies: the stack).
     * Development only.
     */
    private boolean exposeStackTraces = false;

    /** The "type" member of problem+json bodies; must be an absolute URI. */
    private String problemType = "about:blank";

    /**
     * Whether problem+json bodies carry "instance" (the request's path), the shape of Spring's ProblemDetail. Unset:
     * the value of spring.mvc.problemdetails.enabled, so that Backstop's 500 matches Spring's error responses.
     */
    private Boolean problemInstance;

    /**
     * Whether problem+json bodies carry "traceId" when an OpenTelemetry span is current (the application has the
     * OpenTelemetry API, and a tracer or the Java agent made a server span).
     */
    private boolean problemTraceId = true;

    /**
     * Response headers that survive the reset before Backstop's 500 (request ids, CORS and security headers set by
     * filters in front of the handler): names, or prefixes ending in '*', case-insensitive. Empty keeps none;
     * Set-Cookie never survives.
     */
    private String[] keepHeaders = {"X-Request-Id", "X-Correlation-Id", "Access-Control-*", "Vary",
        "Strict-Transport-Security", "X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"};

    /**
     * Whether the application's error page (Spring Boot's /error) answers a panic after Backstop logged and counted
     * it, instead of Backstop's own body. Committed responses are still aborted.
     */
    private boolean useErrorPages = false;

    /**
     * Identical panics (same source, exception class and top three stack frames, whatever the request path) are
     * logged with their stack at most once per interval; the others get a short line each and one summary line when
     * it ends. Every panic is still counted and gets its own error id. 0 logs every panic in full.
     */
    private Duration logStormInterval = Duration.ofSeconds(10);

    /** Application-wide cap on ChildTasks child and background tasks running or queued at once. */
    private int maxChildTasks = 1000;

    /** How long closing the Backstop (when the application stops) waits for background tasks before interrupting them. */
    private Duration backgroundGracePeriod = Duration.ofSeconds(5);

    /**
     * Whether to install a JVM-wide default uncaught-exception handler that reports (source=thread) and delegates to
     * the previous handler; taken out again when the application stops.
     */
    private boolean uncaughtExceptionHandler = false;

    /**
     * Returns {@code backstop.enabled}; see the field for its meaning and default.
     *
     * @return the value
     */
    public boolean isEnabled() {
        return enabled;
    }

    /**
     * Sets {@code backstop.enabled}.
     *
     * @param enabled the value
     */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /**
     * Returns {@code backstop.expose-stack-traces}; see the field for its meaning and default.
     *
     * @return the value
     */
    public boolean isExposeStackTraces() {
        return exposeStackTraces;
    }

    /**
     * Sets {@code backstop.expose-stack-traces}.
     *
     * @param exposeStackTraces the value
     */
    public void setExposeStackTraces(boolean exposeStackTraces) {
        this.exposeStackTraces = exposeStackTraces;
    }

    /**
     * Returns {@code backstop.problem-type}; see the field for its meaning and default.
     *
     * @return the value
     */
    public String getProblemType() {
        return problemType;
    }

    /**
     * Sets {@code backstop.problem-type}.
     *
     * @param problemType the value
     */
    public void setProblemType(String problemType) {
        this.problemType = problemType;
    }

    /**
     * Returns {@code backstop.problem-trace-id}; see the field for its meaning and default.
     *
     * @return the value
     */
    public boolean isProblemTraceId() {
        return problemTraceId;
    }

    /**
     * Sets {@code backstop.problem-trace-id}.
     *
     * @param problemTraceId the value
     */
    public void setProblemTraceId(boolean problemTraceId) {
        this.problemTraceId = problemTraceId;
    }

    /**
     * Returns {@code backstop.problem-instance}; see the field for its meaning and default.
     *
     * @return the value
     */
    public Boolean getProblemInstance() {
        return problemInstance;
    }

    /**
     * Sets {@code backstop.problem-instance}.
     *
     * @param problemInstance the value
     */
    public void setProblemInstance(Boolean problemInstance) {
        this.problemInstance = problemInstance;
    }

    /**
     * Returns {@code backstop.keep-headers}; see the field for its meaning and default.
     *
     * @return the value
     */
    public String[] getKeepHeaders() {
        return keepHeaders;
    }

    /**
     * Sets {@code backstop.keep-headers}.
     *
     * @param keepHeaders the value
     */
    public void setKeepHeaders(String[] keepHeaders) {
        this.keepHeaders = keepHeaders;
    }

    /**
     * Returns {@code backstop.use-error-pages}; see the field for its meaning and default.
     *
     * @return the value
     */
    public boolean isUseErrorPages() {
        return useErrorPages;
    }

    /**
     * Sets {@code backstop.use-error-pages}.
     *
     * @param useErrorPages the value
     */
    public void setUseErrorPages(boolean useErrorPages) {
        this.useErrorPages = useErrorPages;
    }

    /**
     * Returns {@code backstop.log-storm-interval}; see the field for its meaning and default.
     *
     * @return the value
     */
    public Duration getLogStormInterval() {
        return logStormInterval;
    }

    /**
     * Sets {@code backstop.log-storm-interval}.
     *
     * @param logStormInterval the value
     */
    public void setLogStormInterval(Duration logStormInterval) {
        this.logStormInterval = logStormInterval;
    }

    /**
     * Returns {@code backstop.max-child-tasks}; see the field for its meaning and default.
     *
     * @return the value
     */
    public int getMaxChildTasks() {
        return maxChildTasks;
    }

    /**
     * Sets {@code backstop.max-child-tasks}.
     *
     * @param maxChildTasks the value
     */
    public void setMaxChildTasks(int maxChildTasks) {
        this.maxChildTasks = maxChildTasks;
    }

    /**
     * Returns {@code backstop.background-grace-period}; see the field for its meaning and default.
     *
     * @return the value
     */
    public Duration getBackgroundGracePeriod() {
        return backgroundGracePeriod;
    }

    /**
     * Sets {@code backstop.background-grace-period}.
     *
     * @param backgroundGracePeriod the value
     */
    public void setBackgroundGracePeriod(Duration backgroundGracePeriod) {
        this.backgroundGracePeriod = backgroundGracePeriod;
    }

    /**
     * Returns {@code backstop.uncaught-exception-handler}; see the field for its meaning and default.
     *
     * @return the value
     */
    public boolean isUncaughtExceptionHandler() {
        return uncaughtExceptionHandler;
    }

    /**
     * Sets {@code backstop.uncaught-exception-handler}.
     *
     * @param uncaughtExceptionHandler the value
     */
    public void setUncaughtExceptionHandler(boolean uncaughtExceptionHandler) {
        this.uncaughtExceptionHandler = uncaughtExceptionHandler;
    }
}
