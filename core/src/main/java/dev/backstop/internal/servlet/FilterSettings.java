package dev.backstop.internal.servlet;

import dev.backstop.Backstop;
import dev.backstop.ErrorResponder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Executor;

/**
 * The settings of one {@code RecoveryFilter}, in one place: the names of its init-params, their defaults, their
 * parsing and validation, and how what was given in code (the builder) and in init-params combine: code wins, and
 * init-params fill in what code left unset. A bad value fails with a message naming the setting and the value.
 * Immutable once resolved.
 */
public final class FilterSettings {

    public static final String EXPOSE_STACK_TRACES = "expose-stack-traces";
    public static final String METER_REGISTRY_ATTRIBUTE = "meter-registry-attribute";
    public static final String BACKSTOP_ATTRIBUTE = "backstop-attribute";
    public static final String ERROR_RESPONDER = "error-responder";
    public static final String PROBLEM_TYPE = "problem-type";
    public static final String CHILD_TASK_EXECUTOR_ATTRIBUTE = "child-task-executor-attribute";
    public static final String MAX_CHILD_TASKS = "max-child-tasks";
    public static final String BACKGROUND_GRACE_PERIOD = "background-grace-period";
    public static final String LOG_STORM_INTERVAL = "log-storm-interval";
    public static final String UNCAUGHT_EXCEPTION_HANDLER = "uncaught-exception-handler";
    public static final String KEEP_HEADERS = "keep-headers";
    public static final String USE_ERROR_PAGES = "use-error-pages";
    public static final String PROBLEM_INSTANCE = "problem-instance";
    public static final String PROBLEM_TRACE_ID = "problem-trace-id";

    public static final boolean DEFAULT_EXPOSE_STACK_TRACES = false;
    public static final String DEFAULT_METER_REGISTRY_ATTRIBUTE = "io.micrometer.core.instrument.MeterRegistry";
    public static final String DEFAULT_PROBLEM_TYPE = "about:blank";
    public static final boolean DEFAULT_UNCAUGHT_EXCEPTION_HANDLER = false;
    public static final String DEFAULT_KEEP_HEADERS = KeptHeaders.DEFAULT;
    public static final boolean DEFAULT_USE_ERROR_PAGES = false;
    public static final boolean DEFAULT_PROBLEM_INSTANCE = false;
    public static final boolean DEFAULT_PROBLEM_TRACE_ID = true;

    /** The init-params that configure a Backstop, which a filter joining one must not set. */
    private static final String[] BACKSTOP_PARAMS = {
        METER_REGISTRY_ATTRIBUTE, CHILD_TASK_EXECUTOR_ATTRIBUTE, MAX_CHILD_TASKS, BACKGROUND_GRACE_PERIOD,
        LOG_STORM_INTERVAL,
    };

    /**
     * What code gave, each null when not given; {@code RecoveryFilter.Builder} fills one in, checking each value as it
     * comes. Not thread-safe; {@link #copy()} before handing it on.
     */
    public static final class Given {
        public MeterRegistry meterRegistry;
        public Backstop backstop;
        public Boolean uncaughtExceptionHandler;
        public Boolean exposeStackTraces;
        public ErrorResponder errorResponder;
        public String problemType;
        public Executor childTaskExecutor;
        public Integer maxChildTasks;
        public Duration backgroundGracePeriod;
        public Duration logStormInterval;
        public KeptHeaders keepHeaders;
        public Boolean useErrorPages;
        public Boolean problemInstance;
        public Boolean problemTraceId;

        public Given copy() {
            Given copy = new Given();
            copy.meterRegistry = meterRegistry;
            copy.backstop = backstop;
            copy.uncaughtExceptionHandler = uncaughtExceptionHandler;
            copy.exposeStackTraces = exposeStackTraces;
            copy.errorResponder = errorResponder;
            copy.problemType = problemType;
            copy.childTaskExecutor = childTaskExecutor;
            copy.maxChildTasks = maxChildTasks;
            copy.backgroundGracePeriod = backgroundGracePeriod;
            copy.logStormInterval = logStormInterval;
            copy.keepHeaders = keepHeaders;
            copy.useErrorPages = useErrorPages;
            copy.problemInstance = problemInstance;
            copy.problemTraceId = problemTraceId;
            return copy;
        }

        /** @throws IllegalStateException when a Backstop was given together with a setting that belongs to it */
        public void checkJoin() {
            if (backstop == null) {
                return;
            }
            String clash = meterRegistry != null ? "meterRegistry" : logStormInterval != null ? "logStormInterval"
                    : childTaskExecutor != null ? "childTaskExecutor" : maxChildTasks != null ? "maxChildTasks"
                    : backgroundGracePeriod != null ? "backgroundGracePeriod" : null;
            if (clash != null) {
                throw new IllegalStateException("set " + clash + " on the Backstop, not on a filter that joins it: a "
                        + "Backstop owns its registry, log storms and child-task runtime");
            }
        }
    }

    private final Backstop backstop;
    private final MeterRegistry meterRegistry;
    private final String meterRegistrySource;
    private final boolean exposeStackTraces;
    private final ErrorResponder errorResponder;
    private final String problemType;
    private final Executor childTaskExecutor;
    private final int maxChildTasks;
    private final Duration backgroundGracePeriod;
    private final Duration logStormInterval;
    private final boolean uncaughtExceptionHandler;
    private final KeptHeaders keepHeaders;
    private final boolean useErrorPages;
    private final boolean problemInstance;
    private final boolean problemTraceId;

    private FilterSettings(Backstop backstop, MeterRegistry registry, String registrySource, boolean expose, ErrorResponder responder, String problemType, Executor executor, int maxChildTasks,
            Duration grace, Duration logStormInterval, boolean uncaught, KeptHeaders keepHeaders,
            boolean useErrorPages, boolean problemInstance, boolean problemTraceId) {
        this.backstop = backstop;
        this.meterRegistry = registry;
        this.meterRegistrySource = registrySource;
        this.exposeStackTraces = expose;
        this.errorResponder = responder;
        this.problemType = problemType;
        this.childTaskExecutor = executor;
        this.maxChildTasks = maxChildTasks;
        this.backgroundGracePeriod = grace;
        this.logStormInterval = logStormInterval;
        this.uncaughtExceptionHandler = uncaught;
        this.keepHeaders = keepHeaders;
        this.useErrorPages = useErrorPages;
        this.problemInstance = problemInstance;
        this.problemTraceId = problemTraceId;
    }

    /** Code's settings, init-params for the rest, defaults for what neither gave. */
    public static FilterSettings resolve(Given given, FilterConfig config) throws ServletException {
        ServletContext context = config.getServletContext();
        Backstop backstop = given.backstop != null ? given.backstop
                : attribute(context, BACKSTOP_ATTRIBUTE, config.getInitParameter(BACKSTOP_ATTRIBUTE), Backstop.class);
        if (backstop != null) {
            for (String param : BACKSTOP_PARAMS) {
                if (config.getInitParameter(param) != null) {
                    throw new ServletException("Init-param '" + param + "' configures a Backstop, and this filter "
                            + "joins one (" + (given.backstop != null ? "RecoveryFilter.Builder.backstop"
                            : "init-param '" + BACKSTOP_ATTRIBUTE + "'") + "): set it where that Backstop is built");
                }
            }
        }
        MeterRegistry registry = given.meterRegistry;
        String registrySource = "RecoveryFilter.Builder.meterRegistry";
        if (registry == null && backstop == null) {
            String named = config.getInitParameter(METER_REGISTRY_ATTRIBUTE);
            registry = attribute(context, METER_REGISTRY_ATTRIBUTE, named, MeterRegistry.class);
            registrySource = "the ServletContext attribute '" + named + "' named by init-param "
                    + METER_REGISTRY_ATTRIBUTE;
            if (registry == null) {
                registry = defaultRegistry(context);
                registrySource = defaultRegistrySource(registry);
            }
        }
        return new FilterSettings(backstop, registry, registrySource,
                given.exposeStackTraces != null ? given.exposeStackTraces
                        : booleanParam(config, EXPOSE_STACK_TRACES, DEFAULT_EXPOSE_STACK_TRACES),
                given.errorResponder != null ? given.errorResponder
                        : responder(config.getInitParameter(ERROR_RESPONDER)),
                given.problemType != null ? given.problemType : problemTypeParam(config.getInitParameter(PROBLEM_TYPE)),
                given.childTaskExecutor != null ? given.childTaskExecutor
                        : attribute(context, CHILD_TASK_EXECUTOR_ATTRIBUTE,
                                config.getInitParameter(CHILD_TASK_EXECUTOR_ATTRIBUTE), Executor.class),
                given.maxChildTasks != null ? given.maxChildTasks
                        : maxChildTasksParam(config.getInitParameter(MAX_CHILD_TASKS)),
                given.backgroundGracePeriod != null ? given.backgroundGracePeriod
                        : durationParam(BACKGROUND_GRACE_PERIOD, config.getInitParameter(BACKGROUND_GRACE_PERIOD),
                                Backstop.DEFAULT_BACKGROUND_GRACE_PERIOD, "500ms, 10s, 1m or PT10S"),
                given.logStormInterval != null ? given.logStormInterval
                        : durationParam(LOG_STORM_INTERVAL, config.getInitParameter(LOG_STORM_INTERVAL),
                                Backstop.DEFAULT_LOG_STORM_INTERVAL, "0, 500ms, 10s, 1m or PT10S"),
                given.uncaughtExceptionHandler != null ? given.uncaughtExceptionHandler
                        : booleanParam(config, UNCAUGHT_EXCEPTION_HANDLER, DEFAULT_UNCAUGHT_EXCEPTION_HANDLER),
                given.keepHeaders != null ? given.keepHeaders : keepHeadersParam(config.getInitParameter(KEEP_HEADERS)),
                given.useErrorPages != null ? given.useErrorPages
                        : booleanParam(config, USE_ERROR_PAGES, DEFAULT_USE_ERROR_PAGES),
                given.problemInstance != null ? given.problemInstance
                        : booleanParam(config, PROBLEM_INSTANCE, DEFAULT_PROBLEM_INSTANCE),
                given.problemTraceId != null ? given.problemTraceId
                        : booleanParam(config, PROBLEM_TRACE_ID, DEFAULT_PROBLEM_TRACE_ID));
    }

    /**
     * Code's settings and defaults, for a filter used without {@code init()} (some frameworks wrap filters): the
     * registry comes from {@code context}'s default attribute when it has one.
     */
    public static FilterSettings withoutInit(Given given, ServletContext context) {
        MeterRegistry registry = given.meterRegistry;
        String registrySource = "RecoveryFilter.Builder.meterRegistry";
        if (registry == null && given.backstop == null) {
            registry = context == null ? Metrics.globalRegistry : defaultRegistry(context);
            registrySource = defaultRegistrySource(registry);
        }
        return new FilterSettings(given.backstop, registry, registrySource,
                given.exposeStackTraces != null ? given.exposeStackTraces : DEFAULT_EXPOSE_STACK_TRACES,
                given.errorResponder, given.problemType != null ? given.problemType : DEFAULT_PROBLEM_TYPE,
                given.childTaskExecutor,
                given.maxChildTasks != null ? given.maxChildTasks : Backstop.DEFAULT_MAX_CHILD_TASKS,
                given.backgroundGracePeriod != null ? given.backgroundGracePeriod
                        : Backstop.DEFAULT_BACKGROUND_GRACE_PERIOD,
                given.logStormInterval != null ? given.logStormInterval : Backstop.DEFAULT_LOG_STORM_INTERVAL,
                given.uncaughtExceptionHandler != null ? given.uncaughtExceptionHandler
                        : DEFAULT_UNCAUGHT_EXCEPTION_HANDLER,
                given.keepHeaders != null ? given.keepHeaders : KeptHeaders.parse(DEFAULT_KEEP_HEADERS),
                given.useErrorPages != null ? given.useErrorPages : DEFAULT_USE_ERROR_PAGES,
                given.problemInstance != null ? given.problemInstance : DEFAULT_PROBLEM_INSTANCE,
                given.problemTraceId != null ? given.problemTraceId : DEFAULT_PROBLEM_TRACE_ID);
    }

    private static String defaultRegistrySource(MeterRegistry registry) {
        return registry == Metrics.globalRegistry ? "no registry configured: the default, Metrics.globalRegistry"
                : "the ServletContext attribute '" + DEFAULT_METER_REGISTRY_ATTRIBUTE + "'";
    }

    private static MeterRegistry defaultRegistry(ServletContext context) {
        Object value;
        try {
            value = context.getAttribute(DEFAULT_METER_REGISTRY_ATTRIBUTE);
        } catch (RuntimeException unavailable) {
            value = null;
        }
        return value instanceof MeterRegistry registry ? registry : Metrics.globalRegistry;
    }

    /** @return the Backstop to join, or null to build one of the filter's own */
    public Backstop backstop() {
        return backstop;
    }

    /** @return the registry for a Backstop of the filter's own */
    public MeterRegistry meterRegistry() {
        return meterRegistry;
    }

    /** @return where {@link #meterRegistry()} came from, in words, for the line that names it */
    public String meterRegistrySource() {
        return meterRegistrySource;
    }

    public boolean exposeStackTraces() {
        return exposeStackTraces;
    }

    /** @return the user's responder, or null for Backstop's own */
    public ErrorResponder errorResponder() {
        return errorResponder;
    }

    public String problemType() {
        return problemType;
    }

    /** @return the executor for child tasks, or null for the default */
    public Executor childTaskExecutor() {
        return childTaskExecutor;
    }

    public int maxChildTasks() {
        return maxChildTasks;
    }

    public Duration backgroundGracePeriod() {
        return backgroundGracePeriod;
    }

    public Duration logStormInterval() {
        return logStormInterval;
    }

    public boolean uncaughtExceptionHandler() {
        return uncaughtExceptionHandler;
    }

    /** @return the headers that survive the reset before Backstop's 500 */
    public KeptHeaders keepHeaders() {
        return keepHeaders;
    }

    /** @return whether the container's error pages answer panics, after Backstop reported them */
    public boolean useErrorPages() {
        return useErrorPages;
    }

    /** @return whether Backstop's problem+json names the request's path as {@code instance}, as Spring's does */
    public boolean problemInstance() {
        return problemInstance;
    }

    /** @return whether Backstop's problem+json carries the current OpenTelemetry trace id, when there is one */
    public boolean problemTraceId() {
        return problemTraceId;
    }

    /** How a rejection at the cap tells the user to change it. */
    public static String capSetting() {
        return "RecoveryFilter.Builder.maxChildTasks or init-param '" + MAX_CHILD_TASKS + "' (default "
                + Backstop.DEFAULT_MAX_CHILD_TASKS + ")";
    }

    /** The ServletContext attribute an init-param names, which must hold a {@code type}; null when unset. */
    private static <T> T attribute(ServletContext context, String param, String value, Class<T> type)
            throws ServletException {
        if (value == null) {
            return null;
        }
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

    private static KeptHeaders keepHeadersParam(String value) throws ServletException {
        try {
            return KeptHeaders.parse(value == null ? DEFAULT_KEEP_HEADERS : value);
        } catch (IllegalArgumentException e) {
            throw new ServletException("Init-param '" + KEEP_HEADERS + "' must list header names separated by commas ("
                    + "a name may end in '*' to match a prefix), but has " + e.getMessage(), e);
        }
    }

    private static int maxChildTasksParam(String value) throws ServletException {
        if (value == null) {
            return Backstop.DEFAULT_MAX_CHILD_TASKS;
        }
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed >= 1) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            throw badMaxChildTasks(value, e);
        }
        throw badMaxChildTasks(value, null);
    }

    private static ServletException badMaxChildTasks(String value, Exception cause) {
        return new ServletException("Init-param '" + MAX_CHILD_TASKS + "' must be a whole number of at least 1, but "
                + "was '" + value + "'", cause);
    }

    /** A duration init-param, {@code fallback} when unset; {@code examples} lists the forms the message suggests. */
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
    public static Duration parseDuration(String text) {
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

    private static ErrorResponder responder(String className) throws ServletException {
        if (className == null) {
            return null;
        }
        String name = className.trim();
        try {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            Class<?> type = Class.forName(name, true, loader != null ? loader : FilterSettings.class.getClassLoader());
            if (!ErrorResponder.class.isAssignableFrom(type)) {
                throw new ServletException("Init-param '" + ERROR_RESPONDER + "' must name a class that "
                        + "implements dev.backstop.ErrorResponder, but '" + name + "' does not");
            }
            return (ErrorResponder) type.getConstructor().newInstance();
        } catch (ServletException e) {
            throw e;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            throw new ServletException("Init-param '" + ERROR_RESPONDER + "' is '" + className
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
            throw new ServletException("Init-param '" + PROBLEM_TYPE + "' " + e.getMessage(), e);
        }
    }

    /** @return {@code value}, when it is an absolute URI */
    public static String checkProblemType(String value) {
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
}
