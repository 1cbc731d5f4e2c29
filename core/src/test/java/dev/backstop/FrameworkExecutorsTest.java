package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * For executors Backstop does not own (a framework's pool, decorated task by task, as a Spring {@code TaskDecorator}
 * does) and for failures a framework catches itself (an async method's or a scheduler's error handler):
 * {@code Backstop.guard(Runnable)} and {@code Backstop.report(Throwable)}.
 */
class FrameworkExecutorsTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private double executorPanics() {
        return harness.count("backstop.panics", "source", "executor");
    }

    @Test
    void aDecoratedTaskThatThrowsIsReportedAndThePoolThreadLives() throws Exception {
        try (Backstop backstop = Backstop.builder().meterRegistry(harness.registry()).build()) {
            ThreadPoolExecutor pool = harness.shutdownAfter((ThreadPoolExecutor) Executors.newFixedThreadPool(1));
            AtomicReference<Thread> first = new AtomicReference<>();
            Runnable task = () -> {
                first.set(Thread.currentThread());
                throw new IllegalStateException("framework task failed");
            };
            pool.execute(backstop.guard(task));
            AtomicReference<Thread> second = new AtomicReference<>();
            pool.submit(() -> second.set(Thread.currentThread())).get(5, TimeUnit.SECONDS);

            assertThat(second.get()).as("the pool's thread did not die").isSameAs(first.get());
            assertThat(executorPanics()).isEqualTo(1);
            assertThat(harness.errors()).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                    .contains("source=executor", "framework task failed"));
        }
    }

    @Test
    void aDecoratedFutureTaskKeepsItsFailureForItsReaderAndAnUncheckedOneIsReported() throws Exception {
        try (Backstop backstop = Backstop.builder().meterRegistry(harness.registry()).build()) {
            ExecutorService pool = harness.shutdownAfter(Executors.newSingleThreadExecutor());
            FutureTask<String> unchecked = new FutureTask<>(() -> {
                throw new IllegalArgumentException("async method failed");
            });
            FutureTask<String> checked = new FutureTask<>(() -> {
                throw new IOException("the caller reads this one");
            });
            pool.execute(backstop.guard((Runnable) unchecked));
            pool.execute(backstop.guard((Runnable) checked));

            assertThatThrownBy(() -> unchecked.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> checked.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IOException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> executorPanics() == 1);
            assertThat(harness.errors()).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                    .contains("exception=java.lang.IllegalArgumentException"));
        }
    }

    @Test
    void reportGivesAFrameworksCaughtFailureAnErrorIdAndACount() {
        try (Backstop backstop = Backstop.builder().meterRegistry(harness.registry()).build()) {
            String errorId = backstop.report(new IllegalStateException("scheduled job failed"));

            assertThat(errorId).matches("[0-9a-f]{16}");
            assertThat(executorPanics()).isEqualTo(1);
            assertThat(harness.errors()).singleElement().satisfies(line ->
                    assertThat(line.getMDCPropertyMap()).containsEntry("errorId", errorId));
        }
    }
}
