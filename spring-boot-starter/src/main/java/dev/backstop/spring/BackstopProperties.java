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
     * Identical panics (same source, exception class and top stack frames) are logged with their stack at most once
     * per interval, the others folded into one summary line when it ends. Every panic is still counted and gets its
     * own error id. 0 logs every panic in full.
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

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public boolean isExposeStackTraces() {
        return exposeStackTraces;
    }

    public void setExposeStackTraces(boolean exposeStackTraces) {
        this.exposeStackTraces = exposeStackTraces;
    }

    public String getProblemType() {
        return problemType;
    }

    public void setProblemType(String problemType) {
        this.problemType = problemType;
    }

    public Boolean getProblemInstance() {
        return problemInstance;
    }

    public void setProblemInstance(Boolean problemInstance) {
        this.problemInstance = problemInstance;
    }

    public String[] getKeepHeaders() {
        return keepHeaders;
    }

    public void setKeepHeaders(String[] keepHeaders) {
        this.keepHeaders = keepHeaders;
    }

    public boolean isUseErrorPages() {
        return useErrorPages;
    }

    public void setUseErrorPages(boolean useErrorPages) {
        this.useErrorPages = useErrorPages;
    }

    public Duration getLogStormInterval() {
        return logStormInterval;
    }

    public void setLogStormInterval(Duration logStormInterval) {
        this.logStormInterval = logStormInterval;
    }

    public int getMaxChildTasks() {
        return maxChildTasks;
    }

    public void setMaxChildTasks(int maxChildTasks) {
        this.maxChildTasks = maxChildTasks;
    }

    public Duration getBackgroundGracePeriod() {
        return backgroundGracePeriod;
    }

    public void setBackgroundGracePeriod(Duration backgroundGracePeriod) {
        this.backgroundGracePeriod = backgroundGracePeriod;
    }

    public boolean isUncaughtExceptionHandler() {
        return uncaughtExceptionHandler;
    }

    public void setUncaughtExceptionHandler(boolean uncaughtExceptionHandler) {
        this.uncaughtExceptionHandler = uncaughtExceptionHandler;
    }
}
