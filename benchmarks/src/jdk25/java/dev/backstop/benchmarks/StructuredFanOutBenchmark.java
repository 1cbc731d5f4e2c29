package dev.backstop.benchmarks;

import dev.backstop.ChildTasks;
import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.StructuredTaskScope;
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
 * JDK 25's anchor: {@code StructuredTaskScope} (a preview API, JEP 505: compiled in a source set of its own with
 * {@code --enable-preview}, only on JDK 25) against {@link ChildTasks} on virtual threads, both through the same
 * {@link RecoveryFilter}: N no-op subtasks forked and joined. Run the jar with {@code java --enable-preview -jar}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-preview", "-Dslf4j.provider=org.slf4j.nop.NOPServiceProvider"})
public class StructuredFanOutBenchmark {

    private static final ChildTasks.Task NO_OP_TASK = () -> { };

    @Param({"1", "8", "64", "512"})
    public int n;

    private ExecutorService executor;
    private RecoveryFilter filter;
    private StubRequest request;
    private StubResponse response;
    private FilterChain childTasks;
    private FilterChain structured;

    @Setup(Level.Trial)
    public void setUp() throws ServletException {
        executor = FanOutBenchmark.executor("virtual");
        StubContext context = new StubContext();
        request = new StubRequest(context);
        response = new StubResponse();
        filter = RecoveryFilter.builder().meterRegistry(new SimpleMeterRegistry()).childTaskExecutor(executor)
                .maxChildTasks(100_000).build();
        filter.init(new StubConfig(context));
        childTasks = (req, res) -> {
            try (ChildTasks tasks = ChildTasks.open(req)) {
                for (int i = 0; i < n; i++) {
                    tasks.go(NO_OP_TASK);
                }
                tasks.await();
            }
        };
        structured = (req, res) -> {
            try (var scope = StructuredTaskScope.open()) {
                for (int i = 0; i < n; i++) {
                    scope.fork(() -> { });
                }
                scope.join();
            } catch (InterruptedException e) {
                throw new ServletException(e);
            }
        };
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
    public void structuredTaskScope() throws IOException, ServletException {
        request.recycle();
        filter.doFilter(request, response, structured);
    }
}
