package dev.backstop;

import static dev.backstop.ChildTasksTest.catchChildTaskException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.backstop.TaskHandle.State;
import dev.backstop.testing.Harness;
import dev.backstop.testing.InRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What {@code submit} returns: a result without ceremony after {@code await()}, and interop when it is wanted. */
class TaskHandleTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private InRequest requests;

    @BeforeEach
    void start() throws Exception {
        requests = harness.inRequest();
    }

    record Quote(int price, int stock) {
    }

    @Test
    void valuesAreReadWithoutACheckedExceptionAfterAwait() throws Throwable {
        Quote quote = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                TaskHandle<Integer> price = tasks.submit("price", () -> 42);
                TaskHandle<Integer> stock = tasks.submit("stock", () -> 7);
                tasks.await();
                assertThat(price.state()).isEqualTo(State.SUCCESS);
                assertThat(price.name()).isEqualTo("price");
                assertThat(price.exception()).isNull();
                return new Quote(price.get(), stock.get());
            }
        });
        assertThat(quote).isEqualTo(new Quote(42, 7));
    }

    @Test
    void aHandleIsRunningUntilItsTaskEndsAndGetSaysSo() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).name("slow").open()) {
                CountDownLatch release = new CountDownLatch(1);
                TaskHandle<String> handle = tasks.submit("waiting", () -> {
                    release.await();
                    return "done";
                });
                assertThat(handle.state()).isEqualTo(State.RUNNING);
                assertThatThrownBy(handle::get).isInstanceOf(IllegalStateException.class)
                        .hasMessage("task 'waiting' of group 'slow' has not finished; read its value after await() "
                                + "(or once completion() has completed)");
                release.countDown();
                tasks.await();
                assertThat(handle.get()).isEqualTo("done");
            }
            return null;
        });
    }

    @Test
    void aFailedTaskGivesItsExceptionAndGetThrowsItAsTheCause() throws Throwable {
        IOException failure = new IOException("not found");
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                TaskHandle<String> handle = tasks.submit("lookup", () -> {
                    throw failure;
                });
                catchChildTaskException(tasks::await);
                assertThat(handle.state()).isEqualTo(State.FAILED);
                assertThat(handle.exception()).isSameAs(failure);
                assertThatThrownBy(handle::get).isInstanceOf(IllegalStateException.class).hasCause(failure);
            }
            return null;
        });
    }

    @Test
    void readingTheExceptionCountsAsObservingIt() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                TaskHandle<String> handle = tasks.submit(() -> {
                    throw new IOException("read through the handle");
                });
                handle.toFuture().get(5, TimeUnit.SECONDS);
            } catch (ExecutionException expected) {
                // read through the future: observed
            }
            return null;
        });
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                TaskHandle<String> handle = tasks.submit(() -> {
                    throw new IOException("read through exception()");
                });
                await().atMost(Duration.ofSeconds(5)).until(() -> handle.state() == State.FAILED);
                assertThat(handle.exception()).hasMessage("read through exception()");
            }
            return null;
        });
        assertThat(harness.at(Level.WARN)).isEmpty();
    }

    @Test
    void anUnreadFailureIsStillReportedWhenTheGroupCloses() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                TaskHandle<String> handle = tasks.submit("ignored", () -> {
                    throw new IOException("nobody looked");
                });
                // Looking at the state is not reading the failure.
                await().atMost(Duration.ofSeconds(5)).until(() -> handle.state() == State.FAILED);
            }
            return null;
        });
        assertThat(harness.at(Level.WARN)).singleElement().satisfies(event ->
                assertThat(event.getFormattedMessage()).startsWith("unobserved child task failure")
                        .contains("task=ignored"));
    }

    @Test
    void aTaskOfACancelledGroupIsCancelled() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.cancel("not needed");
                TaskHandle<String> handle = tasks.submit("late", () -> "never");
                assertThat(handle.state()).isEqualTo(State.CANCELLED);
                assertThat(handle.exception()).isNull();
                assertThatThrownBy(handle::get).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("was cancelled");
                assertThat(handle.toCompletionStage().toCompletableFuture()).isCompletedExceptionally();
            }
            return null;
        });
    }

    @Test
    void theStageCompletesWithTheValueOrTheFailure() throws Throwable {
        Object[] results = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch release = new CountDownLatch(1);
                CompletableFuture<Integer> value = tasks.submit(() -> {
                    release.await();
                    return 42;
                }).toCompletionStage().toCompletableFuture();
                CompletableFuture<Object> failed = tasks.submit(() -> {
                    release.await();
                    throw new IOException("stage failure");
                }).toCompletionStage().toCompletableFuture();
                release.countDown();
                Object[] out = {value.get(5, TimeUnit.SECONDS), null};
                try {
                    failed.get(5, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    out[1] = e.getCause();
                }
                catchChildTaskException(tasks::await);
                return out;
            }
        });
        assertThat(results[0]).isEqualTo(42);
        assertThat((Throwable) results[1]).isInstanceOf(IOException.class).hasMessage("stage failure");
        assertThat(harness.at(Level.WARN)).as("asking for the stage took on its failure").isEmpty();
    }

    @Test
    void theStageOfAFinishedTaskIsAlreadyComplete() throws Throwable {
        Integer value = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                TaskHandle<Integer> handle = tasks.submit(() -> 1);
                tasks.await();
                return handle.toCompletionStage().toCompletableFuture().getNow(-1);
            }
        });
        assertThat(value).isEqualTo(1);
    }

    @Test
    void theFutureCancelsItsTask() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch started = new CountDownLatch(1);
                TaskHandle<Void> handle = tasks.submit(() -> {
                    started.countDown();
                    new CountDownLatch(1).await();
                    return null;
                });
                started.await();
                assertThat(handle.toFuture().cancel(true)).isTrue();
                assertThatThrownBy(() -> handle.toFuture().get()).isInstanceOf(CancellationException.class);
                catchChildTaskException(tasks::await);
                assertThat(handle.state()).isEqualTo(State.CANCELLED);
            }
            return null;
        });
    }
}
