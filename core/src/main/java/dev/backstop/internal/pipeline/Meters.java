package dev.backstop.internal.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The meters of one {@code Backstop}: names, descriptions, base units and bounded tag values, in one place.
 *
 * <p>Every base unit is the last word of its meter's name, so a Prometheus registry renders
 * {@code backstop.panics} as {@code backstop_panics_total} and nothing longer. The {@code exception} tag takes at
 * most {@link #MAX_EXCEPTION_TAGS} distinct simple class names per source; later ones become {@code other}, so a
 * burst of one source's exception types cannot turn another source's panics into {@code other}.
 *
 * <p>Counters are plain Micrometer counters: two Backstops reporting to one registry add up into the same series.
 * The {@code backstop.tasks.active} gauge is this Backstop's own, told apart by the {@value #TAG_BACKSTOP} tag (the
 * Backstop's name), and holds nothing of the application: its value function is Micrometer's and its state a JDK
 * {@code AtomicInteger}, so a registry that outlives the application pins nothing of it; {@link #close()} removes
 * it. Thread-safe.
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

    /** The tag of {@link #TASKS_ACTIVE} that names the Backstop whose tasks it counts. */
    public static final String TAG_BACKSTOP = "backstop";

    /** Most distinct {@code exception} tag values one source of one pipeline creates before it answers {@code other}. */
    public static final int MAX_EXCEPTION_TAGS = 100;

    public static final String OTHER = "other";

    /**
     * What a panic is, in the one wording the README, the meter's description and the Javadoc share: any throwable
     * that escaped a handler (checked ones included), an unchecked one that escaped a child task, guarded executor or
     * thread, and any failure of a background task; every occurrence counted once.
     */
    static final String PANIC_DESCRIPTION = "Panics: any throwable that escaped a handler (checked ones included), an "
            + "unchecked one that escaped a child task, guarded executor or thread, and any failure of a background "
            + "task; every occurrence counted once.";

    /** The stages of {@link #INTERNAL_FAILURES}. */
    static final String[] INTERNAL_STAGES = {"respond", "standard-respond", "log", "mdc"};

    /** {@code backstop.responses} outcome: Backstop (or the ErrorResponder) wrote a 500. */
    public static final String OUTCOME_ERROR = "error";
    /** {@code backstop.responses} outcome: the connection was aborted. */
    public static final String OUTCOME_ABORTED = "aborted";
    /**
     * {@code backstop.responses} outcome: left to the container to finish, because the container has no quiet abort:
     * rethrown on a request thread, not completed in an async error.
     */
    public static final String OUTCOME_CONTAINER = "container";

    private final MeterRegistry registry;
    private final int maxExceptionTags;
    private final Map<Source, Set<String>> exceptionTags = new EnumMap<>(Source.class);
    // Counters are looked up once and kept: a failure costs a map lookup and an increment, not a builder, tags
    // and an id per event.
    private final Map<Source, Map<String, Counter>> panicCounters = new EnumMap<>(Source.class);
    private final Map<Source, Map<String, Counter>> clientAbortCounters = new EnumMap<>(Source.class);
    private final AtomicReferenceArray<Counter> responseCounters =
            new AtomicReferenceArray<>(3 * Kind.values().length);
    private final AtomicReferenceArray<Counter> taskCounters =
            new AtomicReferenceArray<>(TaskKind.values().length * TaskOutcome.values().length);
    private final AtomicReferenceArray<Counter> foldedCounters = new AtomicReferenceArray<>(Source.values().length);
    private final Map<String, Counter> internalFailureCounters = new ConcurrentHashMap<>();
    private volatile Counter leakedGroups;
    private final String backstopName;
    private final AtomicInteger[] active = new AtomicInteger[TaskKind.values().length];
    private volatile MultiGauge activeGauge;

    /** @param backstopName the value of the {@value #TAG_BACKSTOP} tag of this Backstop's gauges */
    public Meters(MeterRegistry registry, String backstopName) {
        this(registry, backstopName, MAX_EXCEPTION_TAGS);
    }

    Meters(MeterRegistry registry, String backstopName, int maxExceptionTags) {
        this.registry = registry;
        this.backstopName = backstopName;
        this.maxExceptionTags = maxExceptionTags;
        for (Source source : Source.values()) {
            panicCounters.put(source, new ConcurrentHashMap<>());
            clientAbortCounters.put(source, new ConcurrentHashMap<>());
            exceptionTags.put(source, ConcurrentHashMap.newKeySet());
        }
        for (TaskKind kind : TaskKind.values()) {
            active[kind.ordinal()] = new AtomicInteger();
        }
    }

    /**
     * Registers the {@code backstop.tasks.active} gauges, so that dashboards show 0 rather than no data before the
     * first task. Micrometer keeps the first gauge registered under a name and tags, so a Backstop whose name another
     * one already registered in this registry (two versions of one application, both at {@code /}) takes the first
     * free {@code name#2}, {@code name#3}, ...: each Backstop's gauges are its own, and closing one removes only its
     * own.
     *
     * @return the {@value #TAG_BACKSTOP} tag value the gauges were registered under
     */
    String registerGauges() {
        String tag = backstopName;
        for (int n = 2; registry.find(TASKS_ACTIVE).tag(TAG_BACKSTOP, tag).gauge() != null; n++) {
            tag = backstopName + "#" + n;
        }
        List<MultiGauge.Row<?>> rows = new ArrayList<>(active.length);
        for (TaskKind kind : TaskKind.values()) {
            rows.add(MultiGauge.Row.of(Tags.of("kind", kind.tag(), TAG_BACKSTOP, tag), active[kind.ordinal()]));
        }
        MultiGauge gauge = MultiGauge.builder(TASKS_ACTIVE)
                .description("Child tasks running now, by kind, per Backstop.")
                .baseUnit("tasks")
                .register(registry);
        gauge.register(rows);
        activeGauge = gauge;
        return tag;
    }

    /** Removes this Backstop's gauges from the registry; its counters stay, as counters do. */
    void close() {
        MultiGauge gauge = activeGauge;
        if (gauge != null) {
            activeGauge = null;
            gauge.register(List.of(), true);
        }
    }

    void panic(Source source, Throwable t) {
        bySourceAndException(panicCounters, PANICS, "panics", PANIC_DESCRIPTION, source, exceptionTag(source, t))
                .increment();
    }

    void clientAbort(Source source, Throwable t) {
        bySourceAndException(clientAbortCounters, CLIENT_ABORTS, "aborts", "Requests that failed because the "
                + "client went away, as the container says (writing the response failed); not panics.", source,
                exceptionTag(source, t)).increment();
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
        foldedCounter(source).increment();
    }

    private Counter foldedCounter(Source source) {
        Counter counter = foldedCounters.get(source.ordinal());
        if (counter == null) {
            counter = Counter.builder(FOLDED_LINES)
                    .description("Panic lines the log-storm limiter wrote without their stack (a short line, and a "
                            + "count in the window's summary); the panics themselves are all counted in "
                            + "backstop.panics.")
                    .baseUnit("lines")
                    .tag("source", source.tag())
                    .register(registry);
            foldedCounters.set(source.ordinal(), counter);
        }
        return counter;
    }

    void response(String outcome, Kind reason) {
        responseCounter(outcome, reason).increment();
    }

    private Counter responseCounter(String outcome, Kind reason) {
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
        return counter;
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
        internalFailureCounter(stage).increment();
    }

    private Counter internalFailureCounter(String stage) {
        Counter counter = internalFailureCounters.get(stage);
        if (counter == null) {
            counter = internalFailureCounters.computeIfAbsent(stage, tag -> Counter.builder(INTERNAL_FAILURES)
                    .description("Failures inside Backstop itself (an error responder, the response's writer, the "
                            + "logging backend or the MDC adapter that threw); the original failure was still "
                            + "answered and logged.")
                    .baseUnit("failures")
                    .tag("stage", tag)
                    .register(registry));
        }
        return counter;
    }

    void task(TaskKind kind, TaskOutcome outcome) {
        taskCounter(kind, outcome).increment();
    }

    private Counter taskCounter(TaskKind kind, TaskOutcome outcome) {
        int index = kind.ordinal() * TaskOutcome.values().length + outcome.ordinal();
        Counter counter = taskCounters.get(index);
        if (counter == null) {
            counter = Counter.builder(TASKS)
                    .description("Child tasks that finished, or never started, by kind (scoped to a request or "
                            + "background) and outcome (success, failure, panic, cancelled, rejected, abandoned).")
                    .baseUnit("tasks")
                    .tag("kind", kind.tag())
                    .tag("outcome", outcome.tag())
                    .register(registry);
            taskCounters.set(index, counter);
        }
        return counter;
    }

    void leakedGroup() {
        leakedGroupsCounter().increment();
    }

    private Counter leakedGroupsCounter() {
        Counter counter = leakedGroups;
        if (counter == null) {
            counter = Counter.builder(LEAKED_GROUPS)
                    .description("ChildTasks groups still open, and not waited for, when their request ended; their "
                            + "tasks were cancelled.")
                    .baseUnit("groups")
                    .register(registry);
            leakedGroups = counter;
        }
        return counter;
    }

    /**
     * Registers, at 0, every counter whose tags are known in advance (responses by outcome and reason, leaked groups,
     * tasks by kind and outcome, folded lines by source, internal failures by stage), so that a scrape has each series
     * before its first event and an alert on {@code increase()} sees the first one. Panics and client aborts are
     * tagged by exception, which is known only when it happens.
     */
    void registerAtZero() {
        for (String outcome : new String[] {OUTCOME_ERROR, OUTCOME_ABORTED, OUTCOME_CONTAINER}) {
            for (Kind reason : new Kind[] {Kind.PANIC, Kind.ABORT_REQUESTED, Kind.FATAL}) {
                responseCounter(outcome, reason);
            }
        }
        leakedGroupsCounter();
        for (TaskKind kind : TaskKind.values()) {
            for (TaskOutcome outcome : TaskOutcome.values()) {
                taskCounter(kind, outcome);
            }
        }
        for (Source source : Source.values()) {
            foldedCounter(source);
        }
        for (String stage : INTERNAL_STAGES) {
            internalFailureCounter(stage);
        }
    }

    /** @return the running-task count of {@code kind} behind this Backstop's gauge */
    AtomicInteger active(TaskKind kind) {
        return active[kind.ordinal()];
    }

    static String reasonTag(Kind kind) {
        return switch (kind) {
            case PANIC -> "panic";
            case FATAL -> "fatal";
            case CLIENT_ABORT -> "client_abort";
            case ABORT_REQUESTED -> "abort_request";
            case CHECKED, INTERRUPTED -> throw new IllegalArgumentException("not a reason for a response: " + kind);
        };
    }

    /** The simple class name of the failure (under ServletException wrappers), bounded per source. */
    String exceptionTag(Source source, Throwable t) {
        String name = simpleName(Classifier.unwrap(t).getClass());
        Set<String> tags = exceptionTags.get(source);
        if (tags.contains(name)) {
            return name;
        }
        synchronized (tags) {
            if (tags.contains(name)) {
                return name;
            }
            if (tags.size() >= maxExceptionTags) {
                return OTHER;
            }
            tags.add(name);
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
