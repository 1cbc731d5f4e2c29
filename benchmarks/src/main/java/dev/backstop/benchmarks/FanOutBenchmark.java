package dev.backstop.benchmarks;

import dev.backstop.ChildTasks;
import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A request that starts N no-op tasks and waits for them: {@link ChildTasks} vs {@code ExecutorService.invokeAll}
 * vs {@code CompletableFuture.allOf}, all on the same executor and all through the same {@link RecoveryFilter}, on
 * a platform-thread pool and (Java 21+) on virtual threads. On Java 17 the virtual rows fail at setup, by design.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Dslf4j.provider=org.slf4j.nop.NOPServiceProvider")
public class FanOutBenchmark {

    private static final ChildTasks.Task NO_OP_TASK = () -> { };
    private static final Runnable NO_OP_RUNNABLE = () -> { };
    private static final Callable<Object> NO_OP_CALLABLE = () -> null;

    @Param({"1", "8", "64", "512"})
    public int n;

    @Param({"platform", "virtual"})
    public String threads;

    private ExecutorService executor;
    private RecoveryFilter filter;
    private StubRequest request;
    private StubResponse response;
    private List<Callable<Object>> callables;
    private FilterChain childTasks;
    private FilterChain invokeAll;
    private FilterChain allOf;

    @Setup(Level.Trial)
    public void setUp() throws ServletException {
        executor = executor(threads);
        StubContext context = new StubContext();
        request = new StubRequest(context);
        response = new StubResponse();
        filter = RecoveryFilter.builder().meterRegistry(new SimpleMeterRegistry()).childTaskExecutor(executor)
                .maxChildTasks(100_000).build();
        filter.init(new StubConfig(context));
        callables = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            callables.add(NO_OP_CALLABLE);
        }
        childTasks = (req, res) -> {
            try (ChildTasks tasks = ChildTasks.open(req)) {
                for (int i = 0; i < n; i++) {
                    tasks.go(NO_OP_TASK);
                }
                tasks.await();
            }
        };
        invokeAll = (req, res) -> {
            try {
                for (var future : executor.invokeAll(callables)) {
                    future.get();
                }
            } catch (InterruptedException | ExecutionException e) {
                throw new ServletException(e);
            }
        };
        allOf = (req, res) -> {
            CompletableFuture<?>[] futures = new CompletableFuture<?>[n];
            for (int i = 0; i < n; i++) {
                futures[i] = CompletableFuture.runAsync(NO_OP_RUNNABLE, executor);
            }
            CompletableFuture.allOf(futures).join();
        };
    }

    static ExecutorService executor(String threads) {
        if (threads.equals("platform")) {
            return Executors.newFixedThreadPool(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
        }
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("virtual threads need Java 21 or later; this is Java "
                    + Runtime.version().feature(), e);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        filter.destroy();
        executor.shutdownNow();
    }

    @Benchmark
    public void childTasks() throws IOException, ServletException {
        request.recycle();
        filter.doFilter(request, response, childTasks);
    }

    @Benchmark
    public void invokeAll() throws IOException, ServletException {
        request.recycle();
        filter.doFilter(request, response, invokeAll);
    }

    @Benchmark
    public void completableFutureAllOf() throws IOException, ServletException {
        request.recycle();
        filter.doFilter(request, response, allOf);
    }
}
