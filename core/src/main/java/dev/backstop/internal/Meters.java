package dev.backstop.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Backstop's meters: names, descriptions, base units and bounded tag values, in one place.
 *
 * <p>Every base unit is the last word of its meter's name, so a Prometheus registry renders
 * {@code backstop.panics} as {@code backstop_panics_total} and nothing longer. The {@code exception} tag takes at
 * most {@link #MAX_EXCEPTION_TAGS} distinct simple class names per instance; later ones become {@code other}.
 * Thread-safe.
 */
public final class Meters {

    public static final String PANICS = "backstop.panics";
    public static final String CLIENT_ABORTS = "backstop.client.aborts";
    public static final String RESPONSES = "backstop.responses";
    public static final String INTERNAL_FAILURES = "backstop.internal.failures";
    public static final String TASKS = "backstop.tasks";
    public static final String TASKS_ACTIVE = "backstop.tasks.active";
    public static final String LEAKED_GROUPS = "backstop.leaked.groups";
    public static final String FOLDED_LINES = "backstop.folded.lines";

    /** Most distinct {@code exception} tag values one pipeline creates before it answers {@code other}. */
    public static final int MAX_EXCEPTION_TAGS = 100;

    public static final String OTHER = "other";

    /** {@code backstop.responses} outcome: Backstop (or the ErrorResponder) wrote a 500. */
    public static final String OUTCOME_ERROR = "error";
    /** {@code backstop.responses} outcome: the connection was aborted. */
    public static final String OUTCOME_ABORTED = "aborted";
    /**
     * {@code backstop.responses} outcome: left to the container to finish, because the failure is fatal or the
     * container has no quiet abort: rethrown on a request thread, not completed in an async error.
     */
    public static final String OUTCOME_CONTAINER = "container";

    private final MeterRegistry registry;
    private final int maxExceptionTags;
    private final Set<String> exceptionTags = ConcurrentHashMap.newKeySet();
    // Counters are looked up once and kept: a failure costs a map lookup and an increment, not a builder, tags
    // and an id per event.
    private final Map<Source, Map<String, Counter>> panicCounters = new EnumMap<>(Source.class);
    private final Map<Source, Map<String, Counter>> clientAbortCounters = new EnumMap<>(Source.class);
    private final AtomicReferenceArray<Counter> responseCounters =
            new AtomicReferenceArray<>(3 * Kind.values().length);
    private final AtomicReferenceArray<Counter> taskCounters =
            new AtomicReferenceArray<>(TaskKind.values().length * TaskOutcome.values().length);
    private final AtomicReferenceArray<Counter> foldedCounters = new AtomicReferenceArray<>(Source.values().length);
    private volatile AtomicInteger[] active;

    /**
     * Running-task counts per registry and kind, shared by every filter that reports to the same registry: a gauge
     * is registered once per name and tags, so two filters must feed the same number.
     */
    private static final Map<MeterRegistry, AtomicInteger[]> ACTIVE = new WeakHashMap<>();

    public Meters(MeterRegistry registry) {
        this(registry, MAX_EXCEPTION_TAGS);
    }

    Meters(MeterRegistry registry, int maxExceptionTags) {
        this.registry = registry;
        this.maxExceptionTags = maxExceptionTags;
        for (Source source : Source.values()) {
            panicCounters.put(source, new ConcurrentHashMap<>());
            clientAbortCounters.put(source, new ConcurrentHashMap<>());
        }
    }

    void panic(Source source, Throwable t) {
        bySourceAndException(panicCounters, PANICS, "panics", "Panic equivalents: unchecked throwables that "
                + "escaped a handler or a guarded task, each counted once.", source, exceptionTag(t)).increment();
    }

    void clientAbort(Source source, Throwable t) {
        bySourceAndException(clientAbortCounters, CLIENT_ABORTS, "aborts", "Requests that failed because the "
                + "client went away (broken pipe, reset, EOF); not panics.", source, exceptionTag(t)).increment();
    }

    /** The counter {@code name{source, exception}}, registered on first use and kept. */
    private Counter bySourceAndException(Map<Source, Map<String, Counter>> cache, String name, String baseUnit,
            String description, Source source, String exception) {
        Map<String, Counter> bySource = cache.get(source);
        Counter counter = bySource.get(exception);
        if (counter == null) {
            counter = bySource.computeIfAbsent(exception, tag -> Counter.builder(name)
                    .description(description)
                    .baseUnit(baseUnit)
                    .tag("source", source.tag())
                    .tag("exception", tag)
                    .register(registry));
        }
        return counter;
    }

    void foldedLine(Source source) {
        Counter counter = foldedCounters.get(source.ordinal());
        if (counter == null) {
            counter = Counter.builder(FOLDED_LINES)
                    .description("Panic log lines the log-storm limiter folded into a summary instead of writing them "
                            + "one by one; the panics themselves are all counted in backstop.panics.")
                    .baseUnit("lines")
                    .tag("source", source.tag())
                    .register(registry);
            foldedCounters.set(source.ordinal(), counter);
        }
        counter.increment();
    }

    void response(String outcome, Kind reason) {
        int index = outcomeIndex(outcome) * Kind.values().length + reason.ordinal();
        Counter counter = responseCounters.get(index);
        if (counter == null) {
            counter = Counter.builder(RESPONSES)
                    .description("Responses that Backstop took over after a failure, by what the client got and why.")
                    .baseUnit("responses")
                    .tag("outcome", outcome)
                    .tag("reason", reasonTag(reason))
                    .register(registry);
            responseCounters.set(index, counter);
        }
        counter.increment();
    }

    private static int outcomeIndex(String outcome) {
        switch (outcome) {
            case OUTCOME_ERROR:
                return 0;
            case OUTCOME_ABORTED:
                return 1;
            default:
                return 2;
        }
    }

    void internalFailure(String stage) {
        Counter.builder(INTERNAL_FAILURES)
                .description("Failures inside Backstop itself (an error responder, logger or meter registry that "
                        + "threw); the original failure was still answered.")
                .baseUnit("failures")
                .tag("stage", stage)
                .register(registry)
                .increment();
    }

    void task(TaskKind kind, TaskOutcome outcome) {
        int index = kind.ordinal() * TaskOutcome.values().length + outcome.ordinal();
        Counter counter = taskCounters.get(index);
        if (counter == null) {
            counter = Counter.builder(TASKS)
                    .description("Child tasks that finished, by kind (scoped to a request or background) and outcome "
                            + "(success, failure, panic, cancelled, rejected).")
                    .baseUnit("tasks")
                    .tag("kind", kind.tag())
                    .tag("outcome", outcome.tag())
                    .register(registry);
            taskCounters.set(index, counter);
        }
        counter.increment();
    }

    void leakedGroup() {
        Counter.builder(LEAKED_GROUPS)
                .description("ChildTasks groups still open when their request ended; their tasks were cancelled.")
                .baseUnit("groups")
                .register(registry)
                .increment();
    }

    /** @return the running-task count of {@code kind}, registering its gauge on first use */
    AtomicInteger active(TaskKind kind) {
        AtomicInteger[] counts = active;
        if (counts == null) {
            counts = registerActive();
        }
        return counts[kind.ordinal()];
    }

    private AtomicInteger[] registerActive() {
        synchronized (ACTIVE) {
            AtomicInteger[] counts = ACTIVE.get(registry);
            if (counts == null) {
                counts = new AtomicInteger[TaskKind.values().length];
                for (TaskKind kind : TaskKind.values()) {
                    AtomicInteger count = new AtomicInteger();
                    counts[kind.ordinal()] = count;
                    Gauge.builder(TASKS_ACTIVE, count, AtomicInteger::get)
                            .description("Child tasks running now, by kind.")
                            .baseUnit("tasks")
                            .tag("kind", kind.tag())
                            .strongReference(true)
                            .register(registry);
                }
                ACTIVE.put(registry, counts);
            }
            active = counts;
            return counts;
        }
    }

    static String reasonTag(Kind kind) {
        return switch (kind) {
            case PANIC -> "panic";
            case FATAL -> "fatal";
            case CLIENT_ABORT -> "client_abort";
            case ABORT_REQUESTED -> "abort_request";
        };
    }

    /** The simple class name of the failure (under ServletException wrappers), bounded. */
    String exceptionTag(Throwable t) {
        String name = simpleName(Classifier.unwrap(t).getClass());
        if (exceptionTags.contains(name)) {
            return name;
        }
        synchronized (exceptionTags) {
            if (exceptionTags.contains(name)) {
                return name;
            }
            if (exceptionTags.size() >= maxExceptionTags) {
                return OTHER;
            }
            exceptionTags.add(name);
            return name;
        }
    }

    private static String simpleName(Class<?> type) {
        String simple = type.getSimpleName();
        if (!simple.isEmpty()) {
            return simple;
        }
        // Anonymous and hidden classes have no simple name: keep what follows the package.
        String name = type.getName();
        return name.substring(name.lastIndexOf('.') + 1);
    }
}
