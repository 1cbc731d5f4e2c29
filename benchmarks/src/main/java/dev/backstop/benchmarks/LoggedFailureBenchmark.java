package dev.backstop.benchmarks;

import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failure path as users compare it: logback writing to a file ({@code bench-logback.xml}, a
 * {@code FileAppender} in the temporary directory), a hand-written filter that logs every failure with its stack
 * (what an application does without Backstop) against {@link RecoveryFilter} with its defaults (identical panics
 * folded: one stack per kind per 10 s, a short line for the others). Run with {@code -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dslf4j.provider=ch.qos.logback.classic.spi.LogbackServiceProvider",
    "-Dlogback.configurationFile=bench-logback.xml"})
public class LoggedFailureBenchmark {

    private static final FilterChain THROWING = (request, response) -> {
        throw new IllegalStateException("the benchmark's handler failed");
    };

    /** The baseline: log the failure with its stack, answer 500. */
    static final class LoggingHandWrittenFilter implements Filter {
        private static final Logger LOG = LoggerFactory.getLogger("app");

        @Override
        public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            try {
                chain.doFilter(request, response);
            } catch (Throwable t) {
                LOG.error("request failed", t);
                ((HttpServletResponse) response).sendError(500);
            }
        }
    }

    private StubRequest request;
    private StubResponse response;
    private LoggingHandWrittenFilter handWritten;
    private RecoveryFilter recovery;

    @Setup
    public void setUp() throws ServletException {
        StubContext context = new StubContext();
        request = new StubRequest(context);
        response = new StubResponse();
        handWritten = new LoggingHandWrittenFilter();
        recovery = RecoveryFilter.builder().meterRegistry(new SimpleMeterRegistry()).build();
        recovery.init(new StubConfig(context));
    }

    @TearDown
    public void tearDown() {
        recovery.destroy();
    }

    @Benchmark
    public int failureLoggedByHand() throws IOException, ServletException {
        handWritten.doFilter(request, response, THROWING);
        return response.status();
    }

    @Benchmark
    public int failureRecoveryFilter() throws IOException, ServletException {
        recovery.doFilter(request, response, THROWING);
        return response.status();
    }
}
