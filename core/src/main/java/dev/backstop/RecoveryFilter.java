package dev.backstop;

import dev.backstop.internal.Recovery;
import dev.backstop.internal.Reporter;
import dev.backstop.internal.StandardResponder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
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
import java.util.Locale;
import java.util.Objects;

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
 * <p>Thread-safe once initialised. The happy path costs a try block and two request getters
 * ({@code getDispatcherType()}, {@code isAsyncStarted()}), and the filter allocates nothing for it; an async
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

    /** Default of {@value #EXPOSE_STACK_TRACES_PARAM}: stack traces stay in the logs. */
    public static final boolean DEFAULT_EXPOSE_STACK_TRACES = false;
    /** The ServletContext attribute consulted when {@value #METER_REGISTRY_ATTRIBUTE_PARAM} is not set. */
    public static final String DEFAULT_METER_REGISTRY_ATTRIBUTE = "io.micrometer.core.instrument.MeterRegistry";
    /** Default of {@value #PROBLEM_TYPE_PARAM}, RFC 9457's "no further semantics". */
    public static final String DEFAULT_PROBLEM_TYPE = "about:blank";

    private final MeterRegistry meterRegistry;
    private final Boolean exposeStackTraces;
    private final ErrorResponder errorResponder;
    private final String problemType;

    private volatile Recovery recovery;

    /** Creates a filter configured from its init-params at {@link #init(FilterConfig)}. */
    public RecoveryFilter() {
        this(new Builder());
    }

    private RecoveryFilter(Builder builder) {
        this.meterRegistry = builder.meterRegistry;
        this.exposeStackTraces = builder.exposeStackTraces;
        this.errorResponder = builder.errorResponder;
        this.problemType = builder.problemType;
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
        MeterRegistry registry = meterRegistry != null ? meterRegistry
                : registryFrom(context, config.getInitParameter(METER_REGISTRY_ATTRIBUTE_PARAM));
        boolean expose = exposeStackTraces != null ? exposeStackTraces
                : booleanParam(config, EXPOSE_STACK_TRACES_PARAM, DEFAULT_EXPOSE_STACK_TRACES);
        ErrorResponder responder = errorResponder != null ? errorResponder
                : responderFrom(config.getInitParameter(ERROR_RESPONDER_PARAM));
        String type = problemType != null ? problemType : problemTypeParam(config.getInitParameter(PROBLEM_TYPE_PARAM));
        this.recovery = newRecovery(registry, expose, responder, type, context);
    }

    private static Recovery newRecovery(MeterRegistry registry, boolean expose, ErrorResponder responder,
            String problemType, ServletContext context) {
        return new Recovery(new Reporter(registry), responder, new StandardResponder(expose, problemType),
                abortsQuietly(context));
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest httpRequest)
                || !(response instanceof HttpServletResponse httpResponse)
                || isNested(request.getDispatcherType())) {
            chain.doFilter(request, response);
            return;
        }
        Recovery current = recovery(request);
        try {
            chain.doFilter(request, response);
        } catch (Throwable failure) {
            current.onChainFailure(httpRequest, httpResponse, failure);
            return;
        }
        current.afterChain(httpRequest, httpResponse);
    }

    @Override
    public void destroy() {
        // Nothing is held that outlives the filter; the meters belong to the registry's owner.
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
            current = newRecovery(meterRegistry != null ? meterRegistry : Metrics.globalRegistry,
                    exposeStackTraces != null ? exposeStackTraces : DEFAULT_EXPOSE_STACK_TRACES, errorResponder,
                    problemType != null ? problemType : DEFAULT_PROBLEM_TYPE, context);
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
            String name = attributeParam.trim();
            if (name.isEmpty()) {
                throw new ServletException("Init-param '" + METER_REGISTRY_ATTRIBUTE_PARAM
                        + "' must name a ServletContext attribute, but was '" + attributeParam + "'");
            }
            Object value = context.getAttribute(name);
            if (!(value instanceof MeterRegistry registry)) {
                throw new ServletException("Init-param '" + METER_REGISTRY_ATTRIBUTE_PARAM + "' is '" + name
                        + "', but that ServletContext attribute "
                        + (value == null ? "is not set" : "holds a " + value.getClass().getName())
                        + "; it must hold an io.micrometer.core.instrument.MeterRegistry");
            }
            return registry;
        }
        Object value = context.getAttribute(DEFAULT_METER_REGISTRY_ATTRIBUTE);
        return value instanceof MeterRegistry registry ? registry : Metrics.globalRegistry;
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
        private Boolean exposeStackTraces;
        private ErrorResponder errorResponder;
        private String problemType;

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

        /** @return a new filter with these settings */
        public RecoveryFilter build() {
            return new RecoveryFilter(this);
        }
    }
}
