package dev.backstop;

import static dev.backstop.testing.Meters.count;
import static dev.backstop.testing.Meters.total;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.TestServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Soak under fault injection: a real Jetty, real clients on loopback, a mixed workload of every failure Backstop
 * handles. The server counts what it injects, per kind; afterwards every Backstop counter must equal its injected
 * count, every panic must be one ERROR line or folded into a summary, and threads, heap, stderr and the default
 * uncaught-exception handler must show nothing lost or leaked.
 *
 * <p>The CI run is short ({@value #DEFAULT_REQUESTS} requests, {@value #CONCURRENCY} at a time). The long run is
 * {@code mvn -B -pl core verify -Dtest=SoakTest -Dsoak.requests=1000000}; each run writes its table to
 * {@code core/target/soak/soak-report.md}. See RELIABILITY.md.
 */
class SoakTest {

    static final int DEFAULT_REQUESTS = 20_000;
    static final int CONCURRENCY = 64;
    /** Platform threads allowed above the level measured after the warm-up (pool threads finishing their idle). */
    static final int THREAD_MARGIN = 16;
    /** Heap (after a full GC) allowed above the level measured after the warm-up. */
    static final long HEAP_MARGIN_BYTES = 32L << 20;

    /** What the server injects, with its weight in the mix. */
    enum Kind {
        OK(8), HANDLER_PANIC(2), PANIC_AFTER_COMMIT(1), CLIENT_DISCONNECT(1), ABORT_REQUEST(1), CHILD_PANIC_FAIL_FAST(1),
        CHILD_PANIC_COLLECT(1), CHECKED_CHILD_ERROR_HANDLED(1), BACKGROUND_PANIC(1), LEAKED_GROUP(1);

        final int weight;

        Kind(int weight) {
            this.weight = weight;
        }
    }

    private static final Pattern SUMMARY = Pattern.compile("panics folded: (\\d+) more like .*");

    private final AtomicLongArray injected = new AtomicLongArray(Kind.values().length);
    private final AtomicLongArray clientSawExpected = new AtomicLongArray(Kind.values().length);
    private final List<String> clientSurprises = Collections.synchronizedList(new ArrayList<>());

    @Test
    @Timeout(value = 2, unit = TimeUnit.HOURS) // the long run; the short one ends in seconds (see the deadline)
    void mixedFaultsUnderLoadLoseNothingAndLeakNothing() throws Exception {
        int requests = Integer.getInteger("soak.requests", DEFAULT_REQUESTS);
        Duration deadline = Duration.ofSeconds(120 + requests / 200);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Counting logs = new Counting();
        Logger backstopLogger = (Logger) LoggerFactory.getLogger("dev.backstop");
        Level previousLevel = backstopLogger.getLevel();
        backstopLogger.setLevel(Level.INFO); // client aborts log at DEBUG: a million of them is not the point
        logs.attach(backstopLogger);
        Thread.UncaughtExceptionHandler previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        AtomicLong uncaught = new AtomicLong();
        Thread.setDefaultUncaughtExceptionHandler((thread, failure) -> uncaught.incrementAndGet());
        PrintStream previousErr = System.err;
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        TestServer server = new TestServer(RecoveryFilter.builder().meterRegistry(registry).build())
                .route("/soak", this::serve);
        ExecutorService clients = Executors.newFixedThreadPool(CONCURRENCY);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        Report report = new Report();
        try {
            server.start();
            Kind[] mix = mix(new Random(20261127L));
            run(server, http, clients, mix, 2_000, deadline); // warm-up: pools, JIT, connections
            report.threadsBefore = liveThreads();
            report.heapBefore = heapAfterGc();
            long started = System.nanoTime();
            run(server, http, clients, mix, requests, deadline);
            report.seconds = (System.nanoTime() - started) / 1e9;
            report.requests = requests;

            // Asynchronous reports (background tasks, leak closes) land shortly after the responses.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertCountersMatchInjections(registry));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(registry.get("backstop.tasks.active").tag("kind", "scoped").gauge().value()).isZero();
                assertThat(registry.get("backstop.tasks.active").tag("kind", "background").gauge().value()).isZero();
            });
        } finally {
            clients.shutdownNow();
            server.close(); // writes the pending log-storm summaries
            System.setErr(previousErr);
            Thread.setDefaultUncaughtExceptionHandler(previousHandler);
            logs.detach(backstopLogger);
            backstopLogger.setLevel(previousLevel);
        }

        double panics = total(registry, "backstop.panics");
        double folded = total(registry, "backstop.folded.lines");
        assertThat(logs.panicLines.get()).as("one ERROR line per panic, folded or not").isEqualTo((long) panics);
        assertThat(logs.foldedLines.get()).as("ERROR lines without their stack").isEqualTo((long) folded);
        assertThat(logs.foldedInSummaries.get()).as("folded lines in the summaries").isEqualTo((long) folded);
        assertThat(clientSurprises).as("what clients saw that they should not have").isEmpty();
        assertThat(uncaught.get()).as("failures that reached the default uncaught-exception handler").isZero();
        assertThat(stderr.toString(StandardCharsets.UTF_8)).as("stderr").isEmpty();

        await().atMost(Duration.ofSeconds(90)).until(() -> liveThreads() <= report.threadsBefore + THREAD_MARGIN);
        report.threadsAfter = liveThreads();
        report.heapAfter = heapAfterGc();
        assertThat(report.heapAfter).as("heap after a full GC, bytes")
                .isLessThanOrEqualTo(report.heapBefore + HEAP_MARGIN_BYTES);

        report.write(registry, logs, panics, folded);
    }

    private static Kind[] mix(Random random) {
        List<Kind> cycle = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (int i = 0; i < kind.weight; i++) {
                cycle.add(kind);
            }
        }
        Collections.shuffle(cycle, random);
        return cycle.toArray(Kind[]::new);
    }

    private void run(TestServer server, HttpClient http, ExecutorService clients, Kind[] mix, int requests,
            Duration deadline) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> workers = new ArrayList<>();
        for (int c = 0; c < CONCURRENCY; c++) {
            workers.add(clients.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < requests; ) {
                    Kind kind = mix[i % mix.length];
                    if (call(server, http, kind)) {
                        clientSawExpected.incrementAndGet(kind.ordinal());
                    }
                }
                return null;
            }));
        }
        long end = System.nanoTime() + deadline.toNanos();
        for (Future<?> worker : workers) {
            worker.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    /** One request of {@code kind}, as a client; true when the client saw what that kind should look like. */
    private boolean call(TestServer server, HttpClient http, Kind kind) {
        String path = "/soak?kind=" + kind.name();
        try {
            switch (kind) {
                case PANIC_AFTER_COMMIT, ABORT_REQUEST -> {
                    RawHttp.Exchange exchange = RawHttp.get(server.port(), path, true);
                    boolean aborted = exchange.ending() != RawHttp.Ending.KEPT_OPEN
                            && !exchange.body().endsWith("0\r\n\r\n");
                    return expect(kind, aborted, exchange.head());
                }
                case CLIENT_DISCONNECT -> {
                    return disconnectMidResponse(server.port(), path);
                }
                default -> {
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.uri(path))
                            .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
                    int expected = switch (kind) {
                        case HANDLER_PANIC, CHILD_PANIC_FAIL_FAST, CHILD_PANIC_COLLECT -> 500;
                        default -> 200;
                    };
                    boolean clean = response.statusCode() == expected
                            && (expected == 200 || (response.body().contains("\"errorId\"")
                                    && !response.body().contains("Exception")));
                    return expect(kind, clean, response.statusCode() + " " + response.body());
                }
            }
        } catch (IOException | InterruptedException e) {
            return expect(kind, false, e.toString());
        }
    }

    private boolean expect(Kind kind, boolean ok, String seen) {
        if (!ok && clientSurprises.size() < 20) {
            clientSurprises.add(kind + ": " + seen);
        }
        return ok;
    }

    /** Reads the start of a long body, then really closes the socket (RST) while the server is still writing. */
    private boolean disconnectMidResponse(int port, String path) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[4096];
            int read = 0;
            while (read < 8192) {
                int n = in.read(buffer);
                if (n < 0) {
                    return expect(Kind.CLIENT_DISCONNECT, false, "server ended the body first");
                }
                read += n;
            }
            socket.setSoLinger(true, 0);
        }
        return true;
    }

    // ---- the server side: injects one failure of the requested kind and counts it ----

    private void serve(HttpServletRequest request, HttpServletResponse response) throws Exception {
        Kind kind = Kind.valueOf(request.getParameter("kind"));
        injected.incrementAndGet(kind.ordinal());
        switch (kind) {
            case OK -> response.getWriter().write("ok");
            case HANDLER_PANIC -> throw new IllegalStateException("injected handler panic");
            case PANIC_AFTER_COMMIT -> {
                response.getWriter().write("partial-body");
                response.flushBuffer();
                throw new IllegalStateException("injected panic after commit");
            }
            case CLIENT_DISCONNECT -> {
                ServletOutputStream out = response.getOutputStream();
                byte[] chunk = new byte[16 * 1024];
                for (int i = 0; i < 4096; i++) { // 64 MiB at most: the client leaves long before
                    out.write(chunk);
                    out.flush();
                }
            }
            case ABORT_REQUEST -> throw new AbortRequestException();
            case CHILD_PANIC_FAIL_FAST -> {
                try (ChildTasks tasks = ChildTasks.builder(request).name("soak-ff").failFast().open()) {
                    for (int i = 0; i < 3; i++) {
                        tasks.go(() -> new CountDownLatch(1).await(30, TimeUnit.SECONDS)); // cancelled by the panic
                    }
                    tasks.go("panics", () -> {
                        throw new IllegalStateException("injected child panic, fail-fast");
                    });
                    tasks.await();
                }
            }
            case CHILD_PANIC_COLLECT -> {
                try (ChildTasks tasks = ChildTasks.builder(request).name("soak-collect").open()) {
                    for (int i = 0; i < 3; i++) {
                        tasks.go(() -> { });
                    }
                    tasks.go("panics", () -> {
                        throw new IllegalStateException("injected child panic, collect");
                    });
                    tasks.await();
                }
            }
            case CHECKED_CHILD_ERROR_HANDLED -> {
                try (ChildTasks tasks = ChildTasks.open(request)) {
                    tasks.go(() -> {
                        throw new IOException("injected checked child error");
                    });
                    try {
                        tasks.await();
                        throw new IllegalStateException("the checked error did not reach await()");
                    } catch (ChildTaskException expected) {
                        response.getWriter().write("handled");
                    }
                }
            }
            case BACKGROUND_PANIC -> {
                ChildTasks.background(request, "soak-background", () -> {
                    throw new UncheckedIOException(new IOException("injected background panic"));
                });
                response.getWriter().write("started");
            }
            case LEAKED_GROUP -> {
                ChildTasks tasks = ChildTasks.builder(request).name("soak-leak").open();
                tasks.go(() -> new CountDownLatch(1).await()); // never closed: cancelled at the request's end
                response.getWriter().write("leaked");
            }
        }
    }

    private long injected(Kind... kinds) {
        long sum = 0;
        for (Kind kind : kinds) {
            sum += injected.get(kind.ordinal());
        }
        return sum;
    }

    private void assertCountersMatchInjections(SimpleMeterRegistry registry) {
        assertThat(count(registry, "backstop.panics", "source", "handler"))
                .as("handler panics").isEqualTo(injected(Kind.HANDLER_PANIC, Kind.PANIC_AFTER_COMMIT));
        assertThat(count(registry, "backstop.responses", "outcome", "error", "reason", "panic"))
                .as("clean 500s").isEqualTo(injected(Kind.HANDLER_PANIC, Kind.CHILD_PANIC_FAIL_FAST,
                        Kind.CHILD_PANIC_COLLECT));
        assertThat(count(registry, "backstop.responses", "outcome", "aborted", "reason", "panic"))
                .as("aborted after commit").isEqualTo(injected(Kind.PANIC_AFTER_COMMIT));
        assertThat(count(registry, "backstop.client.aborts")).as("client disconnects")
                .isEqualTo(injected(Kind.CLIENT_DISCONNECT));
        assertThat(count(registry, "backstop.responses", "outcome", "aborted", "reason", "abort_request"))
                .as("AbortRequestException").isEqualTo(injected(Kind.ABORT_REQUEST));
        assertThat(count(registry, "backstop.panics", "source", "child"))
                .as("child panics").isEqualTo(injected(Kind.CHILD_PANIC_FAIL_FAST, Kind.CHILD_PANIC_COLLECT));
        assertThat(count(registry, "backstop.tasks", "kind", "scoped", "outcome", "failure"))
                .as("checked child errors").isEqualTo(injected(Kind.CHECKED_CHILD_ERROR_HANDLED));
        assertThat(count(registry, "backstop.panics", "source", "background"))
                .as("background panics").isEqualTo(injected(Kind.BACKGROUND_PANIC));
        assertThat(count(registry, "backstop.leaked.groups"))
                .as("leaked groups").isEqualTo(injected(Kind.LEAKED_GROUP));
        assertThat(total(registry, "backstop.panics")).as("no other panic")
                .isEqualTo(injected(Kind.HANDLER_PANIC, Kind.PANIC_AFTER_COMMIT, Kind.CHILD_PANIC_FAIL_FAST,
                        Kind.CHILD_PANIC_COLLECT, Kind.BACKGROUND_PANIC));
    }

    private static int liveThreads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    private static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Counts Backstop's log events without keeping them: a long soak must not fill the heap with its own logs. */
    private static final class Counting extends AppenderBase<ILoggingEvent> {
        final AtomicLong panicLines = new AtomicLong();
        final AtomicLong foldedLines = new AtomicLong();
        final AtomicLong foldedInSummaries = new AtomicLong();
        final Map<Level, AtomicLong> byLevel = Collections.synchronizedMap(new java.util.HashMap<>());

        @Override
        protected void append(ILoggingEvent event) {
            byLevel.computeIfAbsent(event.getLevel(), level -> new AtomicLong()).incrementAndGet();
            String message = event.getFormattedMessage();
            if (event.getLevel() == Level.ERROR && message.startsWith("panic ")) {
                panicLines.incrementAndGet();
                if (message.contains(" folded=true stackLoggedAs=") && event.getThrowableProxy() == null) {
                    foldedLines.incrementAndGet();
                }
            }
            Matcher summary = SUMMARY.matcher(message);
            if (event.getLevel() == Level.WARN && summary.matches()) {
                foldedInSummaries.addAndGet(Long.parseLong(summary.group(1)));
            }
        }

        void attach(Logger logger) {
            setName("soak-counting");
            setContext(logger.getLoggerContext());
            start();
            logger.addAppender(this);
        }

        void detach(Logger logger) {
            logger.detachAppender(this);
            stop();
        }
    }

    /** The table RELIABILITY.md quotes. */
    private final class Report {
        int requests;
        double seconds;
        int threadsBefore;
        int threadsAfter;
        long heapBefore;
        long heapAfter;

        void write(SimpleMeterRegistry registry, Counting logs, double panics, double folded) throws IOException {
            StringBuilder out = new StringBuilder();
            out.append(String.format("Soak: %,d requests, %d concurrent, %.1f s (%,.0f requests/s), Java %s%n%n",
                    requests, CONCURRENCY, seconds, requests / seconds, Runtime.version()));
            out.append("| kind | injected (warm-up included) | client saw the expected answer |\n| --- | ---: | ---: |\n");
            Map<Kind, Long> rows = new EnumMap<>(Kind.class);
            for (Kind kind : Kind.values()) {
                rows.put(kind, injected.get(kind.ordinal()));
                out.append(String.format("| %s | %,d | %,d |%n", kind.name().toLowerCase(), injected.get(kind.ordinal()),
                        clientSawExpected.get(kind.ordinal())));
            }
            out.append(String.format("%n| counter | value |%n| --- | ---: |%n"));
            out.append(row("backstop.panics{source=handler}", count(registry, "backstop.panics", "source", "handler")));
            out.append(row("backstop.panics{source=child}", count(registry, "backstop.panics", "source", "child")));
            out.append(row("backstop.panics{source=background}",
                    count(registry, "backstop.panics", "source", "background")));
            out.append(row("backstop.client.aborts", count(registry, "backstop.client.aborts")));
            out.append(row("backstop.responses{aborted,abort_request}",
                    count(registry, "backstop.responses", "outcome", "aborted", "reason", "abort_request")));
            out.append(row("backstop.responses{aborted,panic}",
                    count(registry, "backstop.responses", "outcome", "aborted", "reason", "panic")));
            out.append(row("backstop.tasks{scoped,failure}",
                    count(registry, "backstop.tasks", "kind", "scoped", "outcome", "failure")));
            out.append(row("backstop.leaked.groups", count(registry, "backstop.leaked.groups")));
            out.append(row("panic ERROR lines", logs.panicLines.get()));
            out.append(row("backstop.folded.lines", folded));
            out.append(row("panic ERROR lines without a stack (folded)", logs.foldedLines.get()));
            out.append(row("panic ERROR lines - panics (lost)", logs.panicLines.get() - panics));
            out.append(String.format("%nLive threads: %d after warm-up, %d after (margin %d). Heap after full GC: %.1f MiB"
                    + " after warm-up, %.1f MiB after (margin %d MiB). Default uncaught handler: 0 calls. stderr: empty.%n",
                    threadsBefore, threadsAfter, THREAD_MARGIN, heapBefore / 1048576.0, heapAfter / 1048576.0,
                    HEAP_MARGIN_BYTES >> 20));
            Path dir = Path.of("target", "soak");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("soak-report.md"), out.toString());
            System.out.println(out);
        }

        private String row(String name, double value) {
            return String.format("| %s | %,.0f |%n", name, value);
        }
    }
}
