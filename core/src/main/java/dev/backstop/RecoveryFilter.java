package dev.backstop;

import dev.backstop.internal.servlet.FilterSettings;
import dev.backstop.internal.servlet.KeptHeaders;
import dev.backstop.internal.servlet.Recovery;
import dev.backstop.internal.servlet.StandardResponder;
import io.micrometer.core.instrument.MeterRegistry;
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
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The handler-level safety net: every {@code Throwable} that escapes the filter chain is logged once, counted, and
 * answered with a safe 500, or, when the response is already committed, with an aborted connection, so that no
 * client mistakes a truncated body for a whole one. The Java form of Gin's {@code Recovery()} and chi's
 * {@code Recoverer}.
 *
 * <p>What happens to a failure ("committed" is the container's real state, bytes on the wire; {@code isCommitted()}
 * is true after {@code sendError} though nothing was sent, and such a pending error is taken back):
 * <ul>
 *   <li><b>Panic, response not committed</b>: the response is reset (headers and status the handler set are
 *       dropped; those of {@value #KEEP_HEADERS_PARAM} are kept, {@code Set-Cookie} never) and answered 500 with
 *       {@code Cache-Control: no-store}: {@code application/problem+json} (RFC 9457 {@code type}, {@code title},
 *       {@code status}, plus {@code errorId}) when the client accepts JSON or sends no Accept header,
 *       {@code text/plain} otherwise; or by the configured {@link ErrorResponder}, or, with
 *       {@value #USE_ERROR_PAGES_PARAM}, by the container's error page. No exception class, message or stack unless
 *       {@code expose-stack-traces} is on.</li>
 *   <li><b>Panic, response committed, or the connection upgraded</b>: nothing more is written and the connection is
 *       aborted (with a TCP reset where the container allows it): a chunked body never gets its last chunk, a body
 *       with Content-Length is never padded, an upgraded connection never gets a 500. On Jetty and Tomcat Backstop
 *       aborts it itself; on other containers the failure is rethrown for the container to.</li>
 *   <li><b>Client went away</b>, known only from the container's own signal (writing this response failed, and the
 *       failure is that write's: Jetty's {@code EofException}, Tomcat's {@code ClientAbortException}), never from
 *       a message or a class alone: no ERROR, not a panic; counted in {@code backstop.client.aborts}.</li>
 *   <li><b>{@link AbortRequestException}</b>: the connection is aborted quietly; not a panic.</li>
 *   <li><b>Fatal {@link VirtualMachineError}</b> (not {@link StackOverflowError}): logged and counted, answered with a
 *       bare, empty 500 (or an abort once committed), and not handed to the container, whose page would name it and
 *       whose log would repeat its stack.</li>
 * </ul>
 * A panic is any throwable that escaped a handler (checked ones included), an unchecked one that escaped a child
 * task, guarded executor or thread, or any failure of a background task. Each is one ERROR event on the
 * {@code dev.backstop} logger carrying the error id (also in the MDC as {@code errorId}), source, method and path
 * (identical ones in a log storm without their stack), and one increment of
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
 * <p>The filter is a thin adapter over a {@link Backstop}: its init-params and builder settings become one settings
 * object, which builds a Backstop of the filter's own (named after its context path, closed at {@link #destroy()})
 * or joins one the application built ({@link Builder#backstop(Backstop)}, or init-param
 * {@value #BACKSTOP_ATTRIBUTE_PARAM}). The Backstop reports; the filter answers. The request boundary is the
 * filter's too: {@link ChildTasks} groups still open when the request ends are closed and reported as leaks.
 *
 * <p>Thread-safe once initialised. The happy path costs a try block, two request getters
 * ({@code getDispatcherType()}, {@code isAsyncStarted()}) and one request attribute, read and set to an object the
 * filter shares between requests (through it {@link ChildTasks} finds the filter's Backstop); the filter allocates
 * nothing for it. An async request adds one shared {@code AsyncListener} to its context.
 */
public class RecoveryFilter implements Filter {

    /** Init-param: {@code true} to put the exception class, message and stack in error bodies. Development only. */
    public static final String EXPOSE_STACK_TRACES_PARAM = FilterSettings.EXPOSE_STACK_TRACES;
    /** Init-param: name of a ServletContext attribute that holds the {@link MeterRegistry} to use. */
    public static final String METER_REGISTRY_ATTRIBUTE_PARAM = FilterSettings.METER_REGISTRY_ATTRIBUTE;
    /**
     * Init-param: name of a ServletContext attribute that holds a {@link Backstop} for this filter to join (one the
     * application built in a listener, say), instead of building one of its own. The settings of a Backstop
     * (registry, log storms, child tasks) are then that Backstop's, and setting them here fails {@code init()}.
     */
    public static final String BACKSTOP_ATTRIBUTE_PARAM = FilterSettings.BACKSTOP_ATTRIBUTE;
    /** Init-param: class name of an {@link ErrorResponder} with a public no-arg constructor. */
    public static final String ERROR_RESPONDER_PARAM = FilterSettings.ERROR_RESPONDER;
    /** Init-param: the {@code type} URI of problem+json bodies. */
    public static final String PROBLEM_TYPE_PARAM = FilterSettings.PROBLEM_TYPE;

    /**
     * Init-param: name of a ServletContext attribute that holds the {@link Executor} for {@link ChildTasks}.
     * Default: Backstop's own (virtual threads on Java 21+, a platform-thread pool on Java 17).
     */
    public static final String CHILD_TASK_EXECUTOR_ATTRIBUTE_PARAM = FilterSettings.CHILD_TASK_EXECUTOR_ATTRIBUTE;
    /** Init-param: the application-wide cap on child and background tasks running at once. */
    public static final String MAX_CHILD_TASKS_PARAM = FilterSettings.MAX_CHILD_TASKS;
    /** Init-param: how long {@link #destroy()} waits for background tasks, such as {@code 10s}, {@code PT10S}. */
    public static final String BACKGROUND_GRACE_PERIOD_PARAM = FilterSettings.BACKGROUND_GRACE_PERIOD;

    /**
     * Init-param: identical panics (same source, exception class and top three stack frames) are logged with their
     * stack at most once per this interval; the rest are counted, get a short line each without the stack and one
     * summary line per interval, and are counted in {@code backstop.folded.lines}. {@code 0} logs every panic in
     * full.
     */
    public static final String LOG_STORM_INTERVAL_PARAM = FilterSettings.LOG_STORM_INTERVAL;
    /** Default of {@value #LOG_STORM_INTERVAL_PARAM}. */
    public static final Duration DEFAULT_LOG_STORM_INTERVAL = Backstop.DEFAULT_LOG_STORM_INTERVAL;

    /**
     * Init-param: {@code true} to install, at {@code init()}, a JVM-wide default uncaught-exception handler that
     * reports ({@code source=thread}) and delegates to the previous one, taken out again at {@code destroy()}.
     */
    public static final String UNCAUGHT_EXCEPTION_HANDLER_PARAM = FilterSettings.UNCAUGHT_EXCEPTION_HANDLER;
    /** Default of {@value #UNCAUGHT_EXCEPTION_HANDLER_PARAM}. */
    public static final boolean DEFAULT_UNCAUGHT_EXCEPTION_HANDLER = FilterSettings.DEFAULT_UNCAUGHT_EXCEPTION_HANDLER;

    /** Default of {@value #MAX_CHILD_TASKS_PARAM}. */
    public static final int DEFAULT_MAX_CHILD_TASKS = Backstop.DEFAULT_MAX_CHILD_TASKS;
    /** Default of {@value #BACKGROUND_GRACE_PERIOD_PARAM}. */
    public static final Duration DEFAULT_BACKGROUND_GRACE_PERIOD = Backstop.DEFAULT_BACKGROUND_GRACE_PERIOD;

    /** Default of {@value #EXPOSE_STACK_TRACES_PARAM}: stack traces stay in the logs. */
    public static final boolean DEFAULT_EXPOSE_STACK_TRACES = FilterSettings.DEFAULT_EXPOSE_STACK_TRACES;
    /** The ServletContext attribute consulted when {@value #METER_REGISTRY_ATTRIBUTE_PARAM} is not set. */
    public static final String DEFAULT_METER_REGISTRY_ATTRIBUTE = FilterSettings.DEFAULT_METER_REGISTRY_ATTRIBUTE;
    /** Default of {@value #PROBLEM_TYPE_PARAM}, RFC 9457's "no further semantics". */
    public static final String DEFAULT_PROBLEM_TYPE = FilterSettings.DEFAULT_PROBLEM_TYPE;

    /**
     * Init-param: the response headers that survive the reset before Backstop's 500, comma-separated, a trailing
     * {@code *} matching a prefix; empty keeps none. {@code Set-Cookie} never survives.
     */
    public static final String KEEP_HEADERS_PARAM = FilterSettings.KEEP_HEADERS;
    /**
     * Default of {@value #KEEP_HEADERS_PARAM}: what filters in front of the handler set for every response, a request
     * id, CORS and the common security headers.
     */
    public static final String DEFAULT_KEEP_HEADERS = FilterSettings.DEFAULT_KEEP_HEADERS;
    /**
     * Init-param: {@code true} to let the container's own error page for the failure's type, or for 500, answer a
     * panic (after Backstop logged and counted it once; the error id is in request attribute
     * {@code dev.backstop.errorId}) instead of Backstop's problem+json.
     */
    public static final String USE_ERROR_PAGES_PARAM = FilterSettings.USE_ERROR_PAGES;
    /** Default of {@value #USE_ERROR_PAGES_PARAM}: Backstop answers. */
    public static final boolean DEFAULT_USE_ERROR_PAGES = FilterSettings.DEFAULT_USE_ERROR_PAGES;

    /**
     * Init-param: {@code true} adds {@code instance} (the request's path, without query) to Backstop's problem+json, the
     * shape of Spring's {@code ProblemDetail} ({@code type}, {@code title}, {@code status}, {@code instance}) plus
     * {@code errorId}. Default {@value #DEFAULT_PROBLEM_INSTANCE}.
     */
    public static final String PROBLEM_INSTANCE_PARAM = FilterSettings.PROBLEM_INSTANCE;
    /** Default of {@value #PROBLEM_INSTANCE_PARAM}. */
    public static final boolean DEFAULT_PROBLEM_INSTANCE = FilterSettings.DEFAULT_PROBLEM_INSTANCE;

    /**
     * Init-param: {@code false} leaves out {@code traceId}, which Backstop's problem+json carries when a valid
     * OpenTelemetry span is current (the application has the OpenTelemetry API, and a tracer or the Java agent made
     * a server span). Default {@value #DEFAULT_PROBLEM_TRACE_ID}.
     */
    public static final String PROBLEM_TRACE_ID_PARAM = FilterSettings.PROBLEM_TRACE_ID;
    /** Default of {@value #PROBLEM_TRACE_ID_PARAM}. */
    public static final boolean DEFAULT_PROBLEM_TRACE_ID = FilterSettings.DEFAULT_PROBLEM_TRACE_ID;

    private final FilterSettings.Given given;
    private volatile Active active;

    /** What an initialised filter runs with: its Backstop (own or joined), how it answers, its uncaught handler. */
    private static final class Active {
        final Backstop backstop;
        final boolean own;
        final Recovery recovery;
        final Runnable uninstallHandler;

        Active(Backstop backstop, boolean own, Recovery recovery, Runnable uninstallHandler) {
            this.backstop = backstop;
            this.own = own;
            this.recovery = recovery;
            this.uninstallHandler = uninstallHandler;
        }
    }

    /** Creates a filter configured from its init-params at {@link #init(FilterConfig)}. */
    public RecoveryFilter() {
        this(new FilterSettings.Given());
    }

    private RecoveryFilter(FilterSettings.Given given) {
        this.given = given;
    }

    /**
     * Starts the settings of a filter for programmatic registration.
     *
     * @return a builder for programmatic registration
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads and validates the init-params, and builds or joins the filter's Backstop. A bad value fails here, with a
     * message naming the param and the value, rather than on the first failing request.
     *
     * @param config the filter's configuration, with its init-params and its ServletContext
     * @throws ServletException when an init-param has a bad value, or names a Backstop together with a setting that
     *     belongs to it
     */
    @Override
    public void init(FilterConfig config) throws ServletException {
        FilterSettings settings = FilterSettings.resolve(given, config);
        Active previous = active;
        if (previous != null) {
            stop(previous); // initialised again: the old Backstop's gauges go before the new one registers its own
        }
        active = start(settings, config.getServletContext());
    }

    private static Active start(FilterSettings settings, ServletContext context) {
        Backstop backstop = settings.backstop();
        boolean own = backstop == null;
        if (own) {
            Backstop.Builder builder = Backstop.builder()
                    .name(nameOf(context))
                    .meterRegistry(settings.meterRegistry())
                    .registrySource(settings.meterRegistrySource())
                    .logStormInterval(settings.logStormInterval())
                    .maxChildTasks(settings.maxChildTasks())
                    .backgroundGracePeriod(settings.backgroundGracePeriod())
                    .capSetting(FilterSettings.capSetting());
            if (settings.childTaskExecutor() != null) {
                builder.childTaskExecutor(settings.childTaskExecutor());
            }
            backstop = builder.build();
        }
        Recovery recovery = new Recovery(backstop.pipeline(), backstop.tasks(), settings.errorResponder(),
                new StandardResponder(settings.exposeStackTraces(), settings.problemType(), settings.problemInstance(),
                        settings.problemTraceId()),
                settings.keepHeaders(),
                settings.useErrorPages(), context);
        Runnable uninstall = settings.uncaughtExceptionHandler() ? backstop.holdUncaughtHandlerForFilter() : null;
        return new Active(backstop, own, recovery, uninstall);
    }

    /** The name of a filter's own Backstop: its context path, {@code /} for the root context. */
    private static String nameOf(ServletContext context) {
        String path = null;
        try {
            path = context == null ? null : context.getContextPath();
        } catch (RuntimeException unavailable) {
            // Then the default name.
        }
        return path == null ? Backstop.DEFAULT_NAME : path.isEmpty() ? "/" : path;
    }

    /**
     * For a framework that catches a failure before it can reach the filter (a JAX-RS {@code ExceptionMapper}, an
     * error handler that answers itself): reports it for {@code request} exactly as the filter would (one ERROR line,
     * counted, folded in a log storm), and remembers it, so that the same failure reaching the filter, {@link #answer}
     * or {@link #fail} later in this request is not reported again.
     * <pre>{@code
     * public Response toResponse(Throwable failure) {        // an application's catch-all ExceptionMapper
     *     String errorId = RecoveryFilter.report(request, failure);
     *     return Response.serverError().entity(new Problem(errorId)).build();
     * }
     * }</pre>
     *
     * @param request the request the failure belongs to
     * @param failure what was caught
     * @return the error id of its line (the one to show the client), or null when it is not a panic (the client went
     *     away, or an {@link AbortRequestException})
     * @throws NullPointerException if {@code request} or {@code failure} is null
     * @throws IllegalStateException when no {@link RecoveryFilter} guards {@code request}
     */
    public static String report(HttpServletRequest request, Throwable failure) {
        return recoveryOf(request).reportFor(request, Objects.requireNonNull(failure, "failure cannot be null"));
    }

    /**
     * For a framework that catches a failure before it can reach the filter: answers {@code response} as the filter
     * would answer that failure escaping the chain (reported once, see {@link #report}; a 500 from the responder when
     * nothing is on the wire, else the connection aborted), on the request's thread. The framework then writes
     * nothing more.
     *
     * @param request the request the failure belongs to
     * @param response the response to answer
     * @param failure what was caught
     * @return true when the client was answered or the connection aborted; false when only the container can end
     *     this response (a container Backstop does not know, with the response committed)
     * @throws NullPointerException if {@code request} or {@code failure} is null
     * @throws IllegalStateException when no {@link RecoveryFilter} guards {@code request}
     */
    public static boolean answer(HttpServletRequest request, HttpServletResponse response, Throwable failure) {
        return recoveryOf(request).answerFor(request, response,
                Objects.requireNonNull(failure, "failure cannot be null"));
    }

    /**
     * Aborts {@code response}'s connection at once (nothing more is written; the client sees an error, not a clean
     * end), for a framework whose writing of a committed response failed and which has reported the failure itself
     * (with {@link #report}). Counted in {@code backstop.responses{outcome=aborted}}.
     *
     * @param request the request whose connection to abort
     * @param response its response
     * @return false when this container cannot abort, and only a throw to it can end the response
     * @throws NullPointerException if {@code request} is null
     * @throws IllegalStateException when no {@link RecoveryFilter} guards {@code request}
     */
    public static boolean abort(HttpServletRequest request, HttpServletResponse response) {
        return recoveryOf(request).abortFor(request, response);
    }

    private static Recovery recoveryOf(HttpServletRequest request) {
        Objects.requireNonNull(request, "request cannot be null");
        Recovery recovery = Recovery.of(request);
        if (recovery == null) {
            throw new IllegalStateException("no dev.backstop.RecoveryFilter guards this request: map RecoveryFilter "
                    + "for the REQUEST, ASYNC and ERROR dispatcher types, first in the chain");
        }
        return recovery;
    }

    /**
     * Answers an async request whose work failed on a thread of its own (a {@link ChildTasks#completion()}
     * callback, say) exactly as the filter answers a failure that escapes the chain: reported once (a child panic
     * of this request is not reported again), a 500 carrying the error id or, when the response is committed, an
     * aborted connection; then {@code async.complete()}. Never throws for a request a filter guarded: when that
     * request is already over (its async cycle timed out, say), nothing is left to answer and no Backstop to count
     * the failure, and it is logged (ERROR, with its stack and an error id) so that it is not lost.
     *
     * @param async the async context of the request
     * @param failure what the request's work failed with
     * @throws NullPointerException if an argument is null
     * @throws IllegalStateException when no {@link RecoveryFilter} saw the request
     */
    public static void fail(AsyncContext async, Throwable failure) {
        Objects.requireNonNull(async, "async cannot be null");
        Objects.requireNonNull(failure, "failure cannot be null");
        Recovery.fail(async, failure);
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
        Recovery recovery = recovery(request);
        Object outer = recovery.enter(request);
        try {
            chain.doFilter(request, response);
        } catch (Throwable failure) {
            recovery.onChainFailure(httpRequest, httpResponse, failure);
        } finally {
            recovery.exit(httpRequest, httpResponse, outer);
        }
    }

    /**
     * Takes out the uncaught-exception handler it installed, and closes the filter's own Backstop: waits up to the
     * background grace period ({@value #BACKGROUND_GRACE_PERIOD_PARAM}) for background tasks, then interrupts and
     * reports the ones still running, stops the threads Backstop created, writes pending log summaries and removes
     * its gauges. A joined Backstop, and a configured executor, are left to their owner.
     */
    @Override
    public void destroy() {
        Active current = active;
        if (current != null) {
            stop(current); // kept: a request still in flight is still answered, through the closed Backstop
        }
    }

    private static void stop(Active old) {
        if (old.uninstallHandler != null) {
            old.uninstallHandler.run(); // idempotent
        }
        if (old.own) {
            old.backstop.close(); // idempotent
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
        Active current = active;
        if (current == null) {
            // Used without init() (some frameworks wrap filters): code's settings and defaults.
            synchronized (this) {
                current = active;
                if (current == null) {
                    ServletContext context = null;
                    try {
                        context = request.getServletContext();
                    } catch (RuntimeException e) {
                        // No context to ask; assume a container without a quiet abort.
                    }
                    current = start(FilterSettings.withoutInit(given, context), context);
                    active = current;
                }
            }
        }
        return current.recovery;
    }

    /**
     * Builds a {@link RecoveryFilter} for programmatic registration. Not thread-safe; {@link #build()} copies the
     * settings, so the filter does not change when the builder does.
     */
    public static final class Builder {

        private final FilterSettings.Given given = new FilterSettings.Given();

        private Builder() {
        }

        /**
         * The registry for Backstop's meters. Default: the ServletContext attribute
         * {@value RecoveryFilter#DEFAULT_METER_REGISTRY_ATTRIBUTE} if set, else {@code Metrics.globalRegistry}.
         *
         * @param meterRegistry the registry for Backstop's meters
         * @return this builder
         * @throws NullPointerException if {@code meterRegistry} is null
         */
        public Builder meterRegistry(MeterRegistry meterRegistry) {
            given.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry cannot be null");
            return this;
        }

        /**
         * Whether error bodies carry the exception class, message and stack trace. Default
         * {@value RecoveryFilter#DEFAULT_EXPOSE_STACK_TRACES}; turn it on for development only.
         *
         * @param exposeStackTraces whether error bodies carry the exception
         * @return this builder
         */
        public Builder exposeStackTraces(boolean exposeStackTraces) {
            given.exposeStackTraces = exposeStackTraces;
            return this;
        }

        /**
         * Writes the 500 instead of Backstop's standard body; see {@link ErrorResponder}.
         *
         * @param errorResponder the responder
         * @return this builder
         * @throws NullPointerException if {@code errorResponder} is null
         */
        public Builder errorResponder(ErrorResponder errorResponder) {
            given.errorResponder = Objects.requireNonNull(errorResponder, "errorResponder cannot be null");
            return this;
        }

        /**
         * The response headers that survive the reset before Backstop's 500, each a name or a prefix ending in
         * {@code *}; none keeps no header. {@code Set-Cookie} never survives. Default
         * {@value RecoveryFilter#DEFAULT_KEEP_HEADERS}.
         *
         * @param names header names, or prefixes ending in {@code *}
         * @return this builder
         * @throws NullPointerException if {@code names} is null
         * @throws IllegalArgumentException if a name has a space, or a {@code *} anywhere but at its end
         */
        public Builder keepHeaders(String... names) {
            Objects.requireNonNull(names, "names cannot be null");
            given.keepHeaders = KeptHeaders.of(names);
            return this;
        }

        /**
         * Whether Backstop's problem+json names the request's path as {@code instance}, the shape of Spring's
         * {@code ProblemDetail}. Default {@value RecoveryFilter#DEFAULT_PROBLEM_INSTANCE}.
         *
         * @param problemInstance whether problem+json carries {@code instance}
         * @return this builder
         */
        public Builder problemInstance(boolean problemInstance) {
            given.problemInstance = problemInstance;
            return this;
        }

        /**
         * Whether Backstop's problem+json carries {@code traceId} when an OpenTelemetry span is current. Default
         * {@value RecoveryFilter#DEFAULT_PROBLEM_TRACE_ID}.
         *
         * @param problemTraceId whether problem+json carries {@code traceId}
         * @return this builder
         */
        public Builder problemTraceId(boolean problemTraceId) {
            given.problemTraceId = problemTraceId;
            return this;
        }

        /**
         * Whether the application's own error page for the failure's type, or for 500, answers a panic after Backstop
         * logged and counted it, instead of Backstop's problem+json (Backstop answers when there is none). Default
         * {@value RecoveryFilter#DEFAULT_USE_ERROR_PAGES}.
         *
         * @param useErrorPages whether the container's error pages answer panics
         * @return this builder
         */
        public Builder useErrorPages(boolean useErrorPages) {
            given.useErrorPages = useErrorPages;
            return this;
        }

        /**
         * The {@code type} member of problem+json bodies, an absolute URI. Default {@code about:blank}
         * ({@link RecoveryFilter#DEFAULT_PROBLEM_TYPE}).
         *
         * @param problemType an absolute URI
         * @return this builder
         * @throws NullPointerException if {@code problemType} is null
         * @throws IllegalArgumentException if {@code problemType} is not an absolute URI
         */
        public Builder problemType(String problemType) {
            Objects.requireNonNull(problemType, "problemType cannot be null");
            given.problemType = FilterSettings.checkProblemType(problemType);
            return this;
        }

        /**
         * The executor that runs {@link ChildTasks} and background tasks. Default: a virtual thread per task on
         * Java 21+, a pool of platform threads on Java 17. Backstop does not shut down an executor it was given.
         * With {@link #backstop(Backstop)}, set it on the Backstop instead.
         *
         * @param executor the executor for child and background tasks
         * @return this builder
         * @throws NullPointerException if {@code executor} is null
         */
        public Builder childTaskExecutor(Executor executor) {
            given.childTaskExecutor = Objects.requireNonNull(executor, "executor cannot be null");
            return this;
        }

        /**
         * The application-wide cap on child and background tasks running (or queued) at once; beyond it
         * {@code go} throws {@link java.util.concurrent.RejectedExecutionException} and the rejection is counted.
         * Default {@value RecoveryFilter#DEFAULT_MAX_CHILD_TASKS}. With {@link #backstop(Backstop)}, set it on the
         * Backstop instead.
         *
         * @param maxChildTasks the cap; at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code maxChildTasks} is less than 1
         */
        public Builder maxChildTasks(int maxChildTasks) {
            given.maxChildTasks = Backstop.checkMaxChildTasks(maxChildTasks);
            return this;
        }

        /**
         * How long {@link RecoveryFilter#destroy()} waits for background tasks before interrupting them. Default 5s.
         * With {@link #backstop(Backstop)}, set it on the Backstop instead.
         *
         * @param grace the grace period; zero or more
         * @return this builder
         * @throws NullPointerException if {@code grace} is null
         * @throws IllegalArgumentException if {@code grace} is negative
         */
        public Builder backgroundGracePeriod(Duration grace) {
            given.backgroundGracePeriod = Backstop.checkGrace(grace);
            return this;
        }

        /**
         * Identical panics (same source, exception class and top three stack frames) are logged with their stack at
         * most once per {@code interval}; the others are counted as always, get a short line each without the stack,
         * and one WARN summary line per interval with their count, paths and a sample of their error ids
         * ({@code backstop.folded.lines} counts them). {@link Duration#ZERO} logs every panic in full. Default 10s.
         * With {@link #backstop(Backstop)}, set
         * it on the Backstop instead.
         *
         * @param interval the interval; zero or more
         * @return this builder
         * @throws NullPointerException if {@code interval} is null
         * @throws IllegalArgumentException if {@code interval} is negative
         */
        public Builder logStormInterval(Duration interval) {
            given.logStormInterval = Backstop.checkInterval(interval);
            return this;
        }

        /**
         * Joins {@code backstop} instead of building a Backstop of the filter's own: the filter reports through its
         * pipeline (its registry, log storms and bounded {@code exception} tags, shared with its guarded executors
         * and threads), and its child tasks run on its runtime. The filter does not close it. Exclusive with the
         * settings that belong to a Backstop: {@link #meterRegistry}, {@link #logStormInterval},
         * {@link #childTaskExecutor}, {@link #maxChildTasks}, {@link #backgroundGracePeriod}.
         *
         * @param backstop the Backstop to join
         * @return this builder
         * @throws NullPointerException if {@code backstop} is null
         */
        public Builder backstop(Backstop backstop) {
            given.backstop = Objects.requireNonNull(backstop, "backstop cannot be null");
            return this;
        }

        /**
         * Whether {@code init()} installs a JVM-wide default uncaught-exception handler that reports and delegates,
         * taken out again by {@code destroy()}. Default {@value RecoveryFilter#DEFAULT_UNCAUGHT_EXCEPTION_HANDLER}.
         *
         * @param install whether to install the handler
         * @return this builder
         */
        public Builder uncaughtExceptionHandler(boolean install) {
            given.uncaughtExceptionHandler = install;
            return this;
        }

        /**
         * Builds a filter with these settings; init-params fill in what they leave unset.
         *
         * @return a new filter with these settings
         * @throws IllegalStateException when a Backstop was given together with a setting that belongs to it
         */
        public RecoveryFilter build() {
            given.checkJoin();
            return new RecoveryFilter(given.copy());
        }
    }
}
