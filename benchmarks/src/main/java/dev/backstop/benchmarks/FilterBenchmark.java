package dev.backstop.benchmarks;

import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of the safety net per request. Happy path: a chain that does nothing, (a) bare, (b) through the
 * smallest hand-written filter, (c) through {@link RecoveryFilter}. Failure path: a chain that throws a new
 * exception, through (b) and (c), logging to the no-op SLF4J backend. Run with {@code -prof gc} for bytes per
 * request.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Dslf4j.provider=org.slf4j.nop.NOPServiceProvider")
public class FilterBenchmark {

    private static final FilterChain NOTHING = (request, response) -> { };
    private static final FilterChain THROWING = (request, response) -> {
        throw new IllegalStateException("the benchmark's handler failed");
    };

    private StubRequest request;
    private StubResponse response;
    private HandWrittenFilter handWritten;
    private RecoveryFilter recovery;

    @Setup
    public void setUp() throws ServletException {
        StubContext context = new StubContext();
        request = new StubRequest(context);
        response = new StubResponse();
        handWritten = new HandWrittenFilter();
        recovery = RecoveryFilter.builder().meterRegistry(new SimpleMeterRegistry()).build();
        recovery.init(new StubConfig(context));
    }

    @TearDown
    public void tearDown() {
        recovery.destroy();
    }

    @Benchmark
    public void happyBare() throws IOException, ServletException {
        NOTHING.doFilter(request, response);
    }

    @Benchmark
    public void happyHandWritten() throws IOException, ServletException {
        handWritten.doFilter(request, response, NOTHING);
    }

    @Benchmark
    public void happyRecoveryFilter() throws IOException, ServletException {
        recovery.doFilter(request, response, NOTHING);
    }

    @Benchmark
    public int failureHandWritten() throws IOException, ServletException {
        handWritten.doFilter(request, response, THROWING);
        return response.status();
    }

    @Benchmark
    public int failureRecoveryFilter() throws IOException, ServletException {
        recovery.doFilter(request, response, THROWING);
        return response.status();
    }
}
