package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backstop.internal.pipeline.Tracing;
import dev.backstop.testing.Answers;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The OpenTelemetry API is an optional dependency: without it on the class path (this class runs in a surefire
 * execution of its own, with the API removed), nothing of it is loaded and every failure is reported as ever.
 */
class WithoutOpenTelemetryTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @Test
    void panicsAndChildTasksWorkWithoutTheApi() throws Exception {
        assertThatThrownBy(() -> Class.forName("io.opentelemetry.api.trace.Span"))
                .isInstanceOf(ClassNotFoundException.class);
        assertThat(Tracing.available()).isFalse();
        TestServer server = harness.jetty()
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("untraced failure");
                })
                .route("/fanout", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        tasks.go(() -> {
                            throw new IllegalStateException("untraced child");
                        });
                        tasks.await();
                    }
                })
                .start();

        RawHttp.Exchange panic = RawHttp.get(server.port(), "/panic");

        String errorId = Answers.assertProblemJson500(panic);
        assertThat(panic.body()).doesNotContain("traceId");
        assertThat(Answers.assertOnePanicLine(harness, errorId).getFormattedMessage()).doesNotContain("traceId=");

        RawHttp.Exchange child = RawHttp.get(server.port(), "/fanout");

        Answers.assertProblemJson500(child);
        assertThat(harness.count("backstop.panics", "source", "child")).isEqualTo(1);
    }
}
