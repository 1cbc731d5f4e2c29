package dev.backstop;

import dev.backstop.internal.Guard;
import dev.backstop.internal.Recovery;
import dev.backstop.internal.Reporter;
import dev.backstop.internal.StandardResponder;
import dev.backstop.internal.TaskRuntime;
import dev.backstop.internal.UncaughtHandler;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The handler-level safety net: every {@code Throwable} that escapes the filter chain is logged once, counted, and
 * answered with a safe 500, or, when the response is already committed, with an aborted connection, so that no
 * client mistakes a truncated body for a whole one. The Java form of Gin's {@code Recovery()} and chi's
 * {@code Recoverer}.
 *
 * <p>What happens to a failure:
 * <ul>
 *   <li><b>Panic, response not committed</b>: the response is reset (headers and status the handler set are
 *       dropped) and answered 500 with {@code Cache-Control: no-store}: {@code application/problem+json}
 *       (RFC 9457 {@code type}, {@code title}, {@code status}, plus {@code errorId}) when the client accepts JSON
 *       or sends no Accept header, {@code text/plain} otherwise; or by the configured {@link ErrorResponder}. No
 *       exception class, message or stack unless {@code expose-stack-traces} is on.</li>
 *   <li><b>Panic, response committed</b>: nothing more is written. On Jetty the connection is aborted
 *       ({@code sendError(-1)}): a chunked body never gets its last chunk, a body with Content-Length is never
 *       padded. On other containers the failure is rethrown for the container to abort.</li>
 *   <li><b>Client went away</b> (Jetty {@code EofException}, Tomcat {@code ClientAbortException}, broken pipe or
 *       connection reset in the cause chain): no ERROR, not a panic; counted in {@code backstop.client.aborts}.</li>
 *   <li><b>{@link AbortRequestException}</b>: the connection is aborted quietly; not a panic.</li>
 *   <li><b>Fatal {@link VirtualMachineError}</b> (not {@link StackOverflowError}): logged and counted, then
 *       rethrown.</li>
 * </ul>
 * Each panic is one ERROR event on the {@code dev.backstop} logger carrying the error id (also in the MDC as
 * {@code errorId}), source, method and path, and one increment of
 * {@code backstop.panics{source=handler, exception=<SimpleName>}}. REQUEST, ASYNC and ERROR dispatches are
 * covered when the filter is mapped for them; failures that end an async cycle are caught through an
 * {@code AsyncListener}. FORWARD and INCLUDE dispatches pass straight through: their failures reach the
 * dispatch that guards them. Nothing inside the filter (a responder, the meter registry, a {@code getMessage()} that
 * throws) makes it throw or skip the 500.
 *
 * <p>Configure it with init-params (web.xml, {@code @WebFilter}, {@code FilterRegistration}) through the public
 * no-arg constructor, or with {@link #builder()}:
 * <pre>{@code
 * context.addFilter(new FilterHolder(RecoveryFilter.builder().meterRegistry(registry).build()),
 *         "/*", EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
 * }</pre>
 * Settings made with the builder win over init-params; init-params fill in what the builder left unset.
 *
 * <p>The filter also owns the machinery of {@link ChildTasks}: its executor, the application-wide cap on running
 * tasks, and the request boundary, where groups still open are closed and reported as leaks.
 *
 * <p>Thread-safe once initialised. The happy path costs a try block, two request getters
 * ({@code getDispatcherType()}, {@code isAsyncStarted()}), one request-attribute read (for {@link ChildTasks}
 * groups to close) and a thread-local mark; the filter allocates nothing for it and sets no attribute. An async
 * request adds one shared {@code AsyncListener} to its context.
 */
public class RecoveryFilter implements Filter {

    /** Init-param: {@code true} to put the exception class, message and stack in error bodies. Development only. */
    public static final String EXPOSE_STACK_TRACES_PARAM = "expose-stack-traces";
    /** Init-param: name of a ServletContext attribute that holds the {@link MeterRegistry} to use. */
    public static final String METER_REGISTRY_ATTRIBUTE_PARAM = "meter-registry-attribute";
    /** Init-param: class name of an {@link ErrorResponder} with a public no-arg constructor. */
    public static final String ERROR_RESPONDER_PARAM = "error-responder";
    /** Init-param: the {@code type} URI of problem+json bodies. */
    public static final String PROBLEM_TYPE_PARAM = "problem-type";

    /**
     * Init-param: name of a ServletContext attribute that holds the {@link Executor} for {@link ChildTasks}.
     * Default: Backstop's own (virtual threads on Java 21+, a platform-thread pool on Java 17).
     */
    public static final String CHILD_TASK_EXECUTOR_ATTRIBUTE_PARAM = "child-task-executor-attribute";
    /** Init-param: the application-wide cap on child and background tasks running at once. */
    public static final String MAX_CHILD_TASKS_PARAM = "max-child-tasks";
    /** Init-param: how long {@link #destroy()} waits for background tasks, such as {@code 10s}, {@code PT10S}. */
    public static final String BACKGROUND_GRACE_PERIOD_PARAM = "background-grace-period";

    /**
     * Init-param: identical panics (same source, exception class and top stack frames) are logged with their stack
     * at most once per this interval; the rest are counted, folded into one summary line per interval, and counted
     * in {@code backstop.folded.lines}. {@code 0} logs every panic in full.
     */
    public static final String LOG_STORM_INTERVAL_PARAM = "log-storm-interval";
    /** Default of {@value #LOG_STORM_INTERVAL_PARAM}. */
    public static final Duration DEFAULT_LOG_STORM_INTERVAL = Reporter.DEFAULT_LOG_STORM_INTERVAL;

    /**
     * Init-param: {@code true} to install, at {@code init()}, a JVM-wide default uncaught-exception handler that
     * reports ({@code source=thread}) and delegates to the previous one, restored at {@code destroy()}.
     */
    public static final String UNCAUGHT_EXCEPTION_HANDLER_PARAM = "uncaught-exception-handler";
    /** Default of {@value #UNCAUGHT_EXCEPTION_HANDLER_PARAM}. */
    public static final boolean DEFAULT_UNCAUGHT_EXCEPTION_HANDLER = false;

    /** Default of {@value #MAX_CHILD_TASKS_PARAM}. */
    public static final int DEFAULT_MAX_CHILD_TASKS = 1000;
    /** Default of {@value #BACKGROUND_GRACE_PERIOD_PARAM}. */
    public static final Duration DEFAULT_BACKGROUND_GRACE_PERIOD = Duration.ofSeconds(5);

    /** Default of {@value #EXPOSE_STACK_TRACES_PARAM}: stack traces stay in the logs. */
    public static final boolean DEFAULT_EXPOSE_STACK_TRACES = false;
    /** The ServletContext attribute consulted when {@value #METER_REGISTRY_ATTRIBUTE_PARAM} is not set. */
    public static final String DEFAULT_METER_REGISTRY_ATTRIBUTE = "io.micrometer.core.instrument.MeterRegistry";
    /** Default of {@value #PROBLEM_TYPE_PARAM}, RFC 9457's "no further semantics". */
    public static final String DEFAULT_PROBLEM_TYPE = "about:blank";

    private final MeterRegistry meterRegistry;
    private final Backstop backstop;
    private final Boolean uncaughtExceptionHandler;
    private final Boolean exposeStackTraces;
    private final ErrorResponder errorResponder;
    private final String problemType;
    private final Executor childTaskExecutor;
    private final Integer maxChildTasks;
    private final Duration backgroundGracePeriod;
    private final Duration logStormInterval;

    private volatile Recovery recovery;
    private UncaughtHandler installedHandler;

    /** Creates a filter configured from its init-params at {@link #init(FilterConfig)}. */
    public RecoveryFilter() {
        this(new Builder());
    }

    private RecoveryFilter(Builder builder) {
        this.meterRegistry = builder.meterRegistry;
        this.backstop = builder.backstop;
        this.uncaughtExceptionHandler = builder.uncaughtExceptionHandler;
        this.exposeStackTraces = builder.exposeStackTraces;
        this.errorResponder = builder.errorResponder;
        this.problemType = builder.problemType;
        this.childTaskExecutor = builder.childTaskExecutor;
        this.maxChildTasks = builder.maxChildTasks;
        this.backgroundGracePeriod = builder.backgroundGracePeriod;
        this.logStormInterval = builder.logStormInterval;
    }

    /** @return a builder for programmatic registration */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads and validates the init-params. A bad value fails here, with a message naming the param and the value,
     * rather than on the first failing request.
     */
    @Override
    public void init(FilterConfig config) throws ServletException {
        ServletContext context = config.getServletContext();
        MeterRegistry registry = meterRegistry != null || backstop != null ? meterRegistry
                : registryFrom(context, config.getInitParameter(METER_REGISTRY_ATTRIBUTE_PARAM));
        boolean expose = exposeStackTraces != null ? exposeStackTraces
                : booleanParam(config, EXPOSE_STACK_TRACES_PARAM, DEFAULT_EXPOSE_STACK_TRACES);
        ErrorResponder responder = errorResponder != null ? errorResponder
                : responderFrom(config.getInitParameter(ERROR_RESPONDER_PARAM));
        String type = problemType != null ? problemType : problemTypeParam(config.getInitParameter(PROBLEM_TYPE_PARAM));
        Executor executor = childTaskExecutor != null ? childTaskExecutor
                : executorFrom(context, config.getInitParameter(CHILD_TASK_EXECUTOR_ATTRIBUTE_PARAM));
        int cap = maxChildTasks != null ? maxChildTasks : maxChildTasksParam(config.getInitParameter(MAX_CHILD_TASKS_PARAM));
        Duration grace = backgroundGracePeriod != null ? backgroundGracePeriod
                : durationParam(BACKGROUND_GRACE_PERIOD_PARAM, config.getInitParameter(BACKGROUND_GRACE_PERIOD_PARAM),
                        DEFAULT_BACKGROUND_GRACE_PERIOD, "500ms, 10s, 1m or PT10S");
        boolean installHandler = uncaughtExceptionHandler != null ? uncaughtExceptionHandler
                : booleanParam(config, UNCAUGHT_EXCEPTION_HANDLER_PARAM, DEFAULT_UNCAUGHT_EXCEPTION_HANDLER);
        Duration stormInterval = logStormInterval != null ? logStormInterval
                : durationParam(LOG_STORM_INTERVAL_PARAM, config.getInitParameter(LOG_STORM_INTERVAL_PARAM),
                        DEFAULT_LOG_STORM_INTERVAL, "0, 500ms, 10s, 1m or PT10S");
        Recovery previous = recovery;
        Reporter reporter = reporterFor(registry, stormInterval);
        this.recovery = newRecovery(reporter, expose, responder, type, context, executor, cap, grace);
        context.setAttribute(Recovery.ATTRIBUTE, recovery);
        if (previous != null) {
            stop(previous);
        }
        uninstallHandler();
        if (installHandler) {
            synchronized (this) {
                installedHandler = UncaughtHandler.install(backstop != null ? backstop.guardFor()
                        : new Guard(reporter, Backstop.DEFAULT_PROPAGATE_MDC,
                                Backstop.DEFAULT_CANCEL_FAILED_PERIODIC_TASKS));
            }
        }
    }

    private Reporter reporterFor(MeterRegistry registry, Duration stormInterval) {
        return backstop != null ? backstop.reporter() : new Reporter(registry, stormInterval);
    }

    private synchronized void uninstallHandler() {
        if (installedHandler != null) {
            installedHandler.uninstall();
            installedHandler = null;
        }
    }

    private static Recovery newRecovery(Reporter reporter, boolean expose, ErrorResponder responder,
            String problemType, ServletContext context, Executor executor, int maxChildTasks, Duration grace) {
        TaskRuntime tasks = new TaskRuntime(reporter, executor, maxChildTasks, grace,
                "RecoveryFilter.Builder.maxChildTasks or init-param '" + MAX_CHILD_TASKS_PARAM + "' (default "
                        + DEFAULT_MAX_CHILD_TASKS + ")");
        return new Recovery(reporter, responder, new StandardResponder(expose, problemType), abortsQuietly(context),
                tasks);
    }

    /**
     * Answers an async request whose work failed on a thread of its own (a {@link ChildTasks#completion()}
     * callback, say) exactly as the filter answers a failure that escapes the chain: reported once (a child panic
     * is not reported again), a 500 carrying the error id or, when the response is committed, an aborted
     * connection; then {@code async.complete()}. Never throws.
     *
     * @throws IllegalStateException when no {@link RecoveryFilter} saw the request
     */
    public static void fail(AsyncContext async, Throwable failure) {
        Objects.requireNonNull(async, "async cannot be null");
        Objects.requireNonNull(failure, "failure cannot be null");
        ServletRequest request = async.getRequest();
        ServletResponse response = async.getResponse();
        Recovery current = Recovery.of(request);
        if (current == null) {
            // An application thread that failed before the dispatch that started async returned: the filter of
            // this context still answers.
            current = initialisedIn(request);
        }
        if (current == null || !(request instanceof HttpServletRequest httpRequest)
                || !(response instanceof HttpServletResponse httpResponse)) {
            throw new IllegalStateException("RecoveryFilter.fail needs a request that passed through RecoveryFilter");
        }
        current.failAsync(httpRequest, httpResponse, async, failure);
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        DispatcherType dispatch = request.getDispatcherType();
        if (!(request instanceof HttpServletRequest httpRequest)
                || !(response instanceof HttpServletResponse httpResponse)
                || isNested(dispatch)) {
            chain.doFilter(request, response);
            return;
        }
        if (dispatch == DispatcherType.ASYNC) {
            Recovery.rethrowPending(request); // fail() left a failure only the container can end
        }
        Recovery current = recovery(request);
        Recovery outer = current.enter();
        try {
            try {
                chain.doFilter(request, response);
            } catch (Throwable failure) {
                try {
                    current.onChainFailure(httpRequest, httpResponse, failure);
                } finally {
                    current.afterChain(httpRequest, httpResponse);
                }
                return;
            }
            current.afterChain(httpRequest, httpResponse);
        } finally {
            Recovery.exit(outer);
        }
    }

    /**
     * Waits up to the background grace period ({@value #BACKGROUND_GRACE_PERIOD_PARAM}) for background tasks, then
     * interrupts and reports the ones still running, and stops the executor Backstop created. A configured
     * executor is left to its owner. The meters belong to the registry's owner.
     */
    @Override
    public void destroy() {
        uninstallHandler();
        Recovery current = recovery;
        if (current != null) {
            stop(current);
        }
    }

    /** Background tasks first (their failures are reported), then the summaries of folded panics still pending. */
    private void stop(Recovery old) {
        old.tasks().shutdown();
        if (backstop == null) {
            old.reporter().flushFolded(); // a shared Backstop's pipeline outlives this filter
        }
    }

    private static Recovery initialisedIn(ServletRequest request) {
        try {
            return request.getServletContext().getAttribute(Recovery.ATTRIBUTE) instanceof Recovery recovery
                    ? recovery : null;
        } catch (RuntimeException recycled) {
            return null;
        }
    }

    /**
     * FORWARD and INCLUDE run inside a dispatch this filter already guards; an included response cannot be reset
     * or aborted, so their failures are left to reach the outer dispatch.
     */
    private static boolean isNested(DispatcherType type) {
        return type == DispatcherType.INCLUDE || type == DispatcherType.FORWARD;
    }

    private Recovery recovery(ServletRequest request) {
        Recovery current = recovery;
        if (current == null) {
            // Used without init() (some frameworks wrap filters): defaults, unless the builder said otherwise.
            ServletContext context = null;
            try {
                context = request.getServletContext();
            } catch (RuntimeException e) {
                // No context to ask; assume a container without a quiet abort.
            }
            current = newRecovery(reporterFor(meterRegistry != null ? meterRegistry : Metrics.globalRegistry,
                    logStormInterval != null ? logStormInterval : DEFAULT_LOG_STORM_INTERVAL),
                    exposeStackTraces != null ? exposeStackTraces : DEFAULT_EXPOSE_STACK_TRACES, errorResponder,
                    problemType != null ? problemType : DEFAULT_PROBLEM_TYPE, context, childTaskExecutor,
                    maxChildTasks != null ? maxChildTasks : DEFAULT_MAX_CHILD_TASKS,
                    backgroundGracePeriod != null ? backgroundGracePeriod : DEFAULT_BACKGROUND_GRACE_PERIOD);
            recovery = current;
        }
        return current;
    }

    private static boolean abortsQuietly(ServletContext context) {
        String serverInfo = context == null ? null : context.getServerInfo();
        return serverInfo != null && serverInfo.toLowerCase(Locale.ROOT).startsWith("jetty");
    }

    private static MeterRegistry registryFrom(ServletContext context, String attributeParam) throws ServletException {
        if (attributeParam != null) {
            return contextAttribute(context, METER_REGISTRY_ATTRIBUTE_PARAM, attributeParam, MeterRegistry.class);
        }
        Object value = context.getAttribute(DEFAULT_METER_REGISTRY_ATTRIBUTE);
        return value instanceof MeterRegistry registry ? registry : Metrics.globalRegistry;
    }

    private static Executor executorFrom(ServletContext context, String attributeParam) throws ServletException {
        return attributeParam == null ? null
                : contextAttribute(context, CHILD_TASK_EXECUTOR_ATTRIBUTE_PARAM, attributeParam, Executor.class);
    }

    /** The ServletContext attribute an init-param names, which must hold a {@code type}. */
    private static <T> T contextAttribute(ServletContext context, String param, String value, Class<T> type)
            throws ServletException {
        String name = value.trim();
        if (name.isEmpty()) {
            throw new ServletException("Init-param '" + param + "' must name a ServletContext attribute, but was '"
                    + value + "'");
        }
        Object found = context.getAttribute(name);
        if (!type.isInstance(found)) {
            throw new ServletException("Init-param '" + param + "' is '" + name + "', but that ServletContext "
                    + "attribute " + (found == null ? "is not set" : "holds a " + found.getClass().getName())
                    + "; it must hold an instance of " + type.getName());
        }
        return type.cast(found);
    }

    private static int maxChildTasksParam(String value) throws ServletException {
        if (value == null) {
            return DEFAULT_MAX_CHILD_TASKS;
        }
        try {
            return checkMaxChildTasks(Integer.parseInt(value.trim()));
        } catch (IllegalArgumentException e) {
            throw new ServletException("Init-param '" + MAX_CHILD_TASKS_PARAM + "' must be a whole number of at "
                    + "least 1, but was '" + value + "'", e);
        }
    }

    private static int checkMaxChildTasks(int value) {
        if (value < 1) {
            throw new IllegalArgumentException("maxChildTasks must be at least 1, but was " + value);
        }
        return value;
    }

    /**
     * A duration init-param, {@code fallback} when unset; {@code examples} lists the forms the message suggests.
     */
    private static Duration durationParam(String name, String value, Duration fallback, String examples)
            throws ServletException {
        if (value == null) {
            return fallback;
        }
        try {
            Duration parsed = parseDuration(value.trim());
            if (!parsed.isNegative()) {
                return parsed;
            }
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw badDuration(name, value, examples, e);
        }
        throw badDuration(name, value, examples, null);
    }

    private static ServletException badDuration(String name, String value, String examples, Exception cause) {
        return new ServletException("Init-param '" + name + "' must be a duration such as " + examples
                + ", not negative, but was '" + value + "'", cause);
    }

    /** Accepts {@code 0}, {@code 500ms}, {@code 10s}, {@code 2m} and ISO-8601 ({@code PT10S}). */
    static Duration parseDuration(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.equals("0")) {
            return Duration.ZERO;
        }
        if (lower.startsWith("p")) {
            return Duration.parse(text);
        }
        if (lower.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(lower.substring(0, lower.length() - 2).trim()));
        }
        if (lower.endsWith("s")) {
            return Duration.ofSeconds(Long.parseLong(lower.substring(0, lower.length() - 1).trim()));
        }
        if (lower.endsWith("m")) {
            return Duration.ofMinutes(Long.parseLong(lower.substring(0, lower.length() - 1).trim()));
        }
        throw new IllegalArgumentException("no unit in '" + text + "'");
    }

    private static Duration checkGrace(Duration grace) {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("backgroundGracePeriod cannot be negative, but was " + grace);
        }
        return grace;
    }

    private static boolean booleanParam(FilterConfig config, String name, boolean defaultValue)
            throws ServletException {
        String value = config.getInitParameter(name);
        if (value == null) {
            return defaultValue;
        }
        String trimmed = value.trim();
        if (trimmed.equalsIgnoreCase("true")) {
            return true;
        }
        if (trimmed.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ServletException("Init-param '" + name + "' must be true or false, but was '" + value + "'");
    }

    private static ErrorResponder responderFrom(String className) throws ServletException {
        if (className == null) {
            return null;
        }
        String name = className.trim();
        try {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            Class<?> type = Class.forName(name, true, loader != null ? loader : RecoveryFilter.class.getClassLoader());
            if (!ErrorResponder.class.isAssignableFrom(type)) {
                throw new ServletException("Init-param '" + ERROR_RESPONDER_PARAM + "' must name a class that "
                        + "implements dev.backstop.ErrorResponder, but '" + name + "' does not");
            }
            return (ErrorResponder) type.getConstructor().newInstance();
        } catch (ServletException e) {
            throw e;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            throw new ServletException("Init-param '" + ERROR_RESPONDER_PARAM + "' is '" + className
                    + "', which cannot be instantiated through a public no-arg constructor: " + e, e);
        }
    }

    private static String problemTypeParam(String value) throws ServletException {
        if (value == null) {
            return DEFAULT_PROBLEM_TYPE;
        }
        try {
            return checkProblemType(value.trim());
        } catch (IllegalArgumentException e) {
            throw new ServletException("Init-param '" + PROBLEM_TYPE_PARAM + "' " + e.getMessage(), e);
        }
    }

    private static String checkProblemType(String value) {
        URI uri;
        try {
            uri = URI.create(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("must be an absolute URI, but was '" + value + "'", e);
        }
        if (!uri.isAbsolute()) {
            throw new IllegalArgumentException("must be an absolute URI, but was '" + value + "'");
        }
        return value;
    }

    /**
     * Builds a {@link RecoveryFilter} for programmatic registration. Not thread-safe; {@link #build()} copies the
     * settings, so the filter does not change when the builder does.
     */
    public static final class Builder {

        private MeterRegistry meterRegistry;
        private Backstop backstop;
        private Boolean uncaughtExceptionHandler;
        private Boolean exposeStackTraces;
        private ErrorResponder errorResponder;
        private String problemType;
        private Executor childTaskExecutor;
        private Integer maxChildTasks;
        private Duration backgroundGracePeriod;
        private Duration logStormInterval;

        private Builder() {
        }

        /**
         * The registry for Backstop's meters. Default: the ServletContext attribute
         * {@value RecoveryFilter#DEFAULT_METER_REGISTRY_ATTRIBUTE} if set, else {@code Metrics.globalRegistry}.
         */
        public Builder meterRegistry(MeterRegistry meterRegistry) {
            this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry cannot be null");
            return this;
        }

        /**
         * Whether error bodies carry the exception class, message and stack trace. Default
         * {@value RecoveryFilter#DEFAULT_EXPOSE_STACK_TRACES}; turn it on for development only.
         */
        public Builder exposeStackTraces(boolean exposeStackTraces) {
            this.exposeStackTraces = exposeStackTraces;
            return this;
        }

        /** Writes the 500 instead of Backstop's standard body; see {@link ErrorResponder}. */
        public Builder errorResponder(ErrorResponder errorResponder) {
            this.errorResponder = Objects.requireNonNull(errorResponder, "errorResponder cannot be null");
            return this;
        }

        /** The {@code type} member of problem+json bodies, an absolute URI. Default {@code about:blank}. */
        public Builder problemType(String problemType) {
            Objects.requireNonNull(problemType, "problemType cannot be null");
            this.problemType = checkProblemType(problemType);
            return this;
        }

        /**
         * The executor that runs {@link ChildTasks} and background tasks. Default: a virtual thread per task on
         * Java 21+, a pool of platform threads on Java 17. Backstop does not shut down an executor it was given.
         */
        public Builder childTaskExecutor(Executor executor) {
            this.childTaskExecutor = Objects.requireNonNull(executor, "executor cannot be null");
            return this;
        }

        /**
         * The application-wide cap on child and background tasks running (or queued) at once; beyond it
         * {@code go} throws {@link java.util.concurrent.RejectedExecutionException} and the rejection is counted.
         * Default {@value RecoveryFilter#DEFAULT_MAX_CHILD_TASKS}.
         */
        public Builder maxChildTasks(int maxChildTasks) {
            this.maxChildTasks = checkMaxChildTasks(maxChildTasks);
            return this;
        }

        /** How long {@link RecoveryFilter#destroy()} waits for background tasks before interrupting them. Default 5s. */
        public Builder backgroundGracePeriod(Duration grace) {
            this.backgroundGracePeriod = checkGrace(Objects.requireNonNull(grace, "grace cannot be null"));
            return this;
        }

        /**
         * Identical panics (same source, exception class and top three stack frames) are logged with their stack at
         * most once per {@code interval}; the others are counted as always, and folded into one WARN summary line
         * per interval with their count and a sample of their error ids ({@code backstop.folded.lines} counts
         * them). {@link Duration#ZERO} logs every panic in full. Default 10s. With {@link #backstop(Backstop)}, set
         * it on the Backstop instead.
         */
        public Builder logStormInterval(Duration interval) {
            this.logStormInterval = Reporter.checkInterval(interval);
            return this;
        }

        /**
         * Reports through {@code backstop}'s pipeline: its meter registry, and the same bounded {@code exception}
         * tags as its guarded executors and threads. Replaces {@link #meterRegistry(MeterRegistry)}.
         */
        public Builder backstop(Backstop backstop) {
            this.backstop = Objects.requireNonNull(backstop, "backstop cannot be null");
            return this;
        }

        /**
         * Whether {@code init()} installs a JVM-wide default uncaught-exception handler that reports and delegates,
         * restored by {@code destroy()}. Default {@value RecoveryFilter#DEFAULT_UNCAUGHT_EXCEPTION_HANDLER}.
         */
        public Builder uncaughtExceptionHandler(boolean install) {
            this.uncaughtExceptionHandler = install;
            return this;
        }

        /**
         * @return a new filter with these settings
         * @throws IllegalStateException when both a meter registry and a Backstop were given
         */
        public RecoveryFilter build() {
            if (backstop != null && meterRegistry != null) {
                throw new IllegalStateException("set either meterRegistry or backstop, not both: a Backstop reports "
                        + "to its own registry");
            }
            if (backstop != null && logStormInterval != null) {
                throw new IllegalStateException("set logStormInterval on the Backstop, not on a filter that shares "
                        + "its pipeline");
            }
            return new RecoveryFilter(this);
        }
    }
}
