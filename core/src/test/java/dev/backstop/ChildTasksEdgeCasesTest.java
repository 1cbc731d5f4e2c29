package dev.backstop;

import static dev.backstop.ChildTasksTest.catchChildTaskException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backstop.testing.Blocking;
import dev.backstop.testing.Harness;
import dev.backstop.testing.InRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Races and misuse that must neither hang nor lose or double-count a task: an executor refusing while the group is
 * cancelled, a task that closes its own group, stubborn tasks that ignore interrupts, concurrent closes, hostile
 * exceptions read through futures, and callbacks that block.
 */
class ChildTasksEdgeCasesTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private InRequest requests;

    @BeforeEach
    void start() throws Exception {
        requests = harness.inRequest();
    }

    private double tasks(String outcome) {
        return harness.count("backstop.tasks", "kind", "scoped", "outcome", outcome);
    }

    @Test
    void anExecutorRefusalRacingACancelCountsTheTaskOnceAndKeepsTheCapExact() throws Throwable {
        AtomicReference<ChildTasks> group = new AtomicReference<>();
        AtomicInteger calls = new AtomicInteger();
        Executor refusesFirst = command -> {
            if (calls.incrementAndGet() == 1) {
                group.get().cancel(); // as a failing sibling, the timer or close() could, from another thread
                throw new RejectedExecutionException("full");
            }
            new Thread(command).start();
        };
        InRequest capped = harness.inRequest(harness.filter().maxChildTasks(1).childTaskExecutor(refusesFirst)
                .build());
        capped.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                group.set(tasks);
                tasks.go(() -> { }); // cancelled while being refused: counted once, as cancelled
                assertThat(catchChildTaskException(tasks::await).getCause())
                        .isInstanceOf(CancellationException.class);
            }
            // The cap of one is still exactly one: one task runs, the second is refused.
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch release = new CountDownLatch(1);
                tasks.go(release::await);
                assertThatThrownBy(() -> tasks.go(() -> { })).isInstanceOf(RejectedExecutionException.class);
                release.countDown();
                tasks.await();
            }
            return null;
        });
        assertThat(tasks("cancelled")).isEqualTo(1);
        assertThat(tasks("rejected")).isEqualTo(1);
        assertThat(tasks("success")).isEqualTo(1);
    }

    @Test
    void aRefusedTaskReleasesCompletionWaitersRegisteredMeanwhile() throws Throwable {
        AtomicReference<ChildTasks> group = new AtomicReference<>();
        AtomicReference<CompletableFuture<Void>> stage = new AtomicReference<>();
        Executor refusing = command -> {
            stage.set(group.get().completion().toCompletableFuture());
            throw new RejectedExecutionException("full");
        };
        InRequest refused = harness.inRequest(harness.filter().childTaskExecutor(refusing).build());
        refused.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                group.set(tasks);
                assertThatThrownBy(() -> tasks.go(() -> { })).isInstanceOf(RejectedExecutionException.class);
                assertThat(stage.get().get(5, TimeUnit.SECONDS)).isNull();
            }
            return null;
        });
        assertThat(tasks("rejected")).isEqualTo(1);
    }

    @Test
    void waitingForOrClosingTheGroupFromItsOwnTaskFailsInsteadOfHanging() throws Throwable {
        AtomicReference<Throwable> fromClose = new AtomicReference<>();
        AtomicReference<Throwable> fromAwait = new AtomicReference<>();
        AtomicReference<Throwable> fromGet = new AtomicReference<>();
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).name("self").open()) {
                tasks.go("closer", () -> {
                    try {
                        tasks.close();
                    } catch (IllegalStateException e) {
                        fromClose.set(e);
                    }
                    try {
                        tasks.await();
                    } catch (IllegalStateException e) {
                        fromAwait.set(e);
                    }
                });
                AtomicReference<Future<Void>> own = new AtomicReference<>();
                CountDownLatch published = new CountDownLatch(1);
                own.set(tasks.submit("getter", () -> {
                    published.await();
                    try {
                        own.get().get();
                    } catch (IllegalStateException e) {
                        fromGet.set(e);
                    }
                    return (Void) null;
                }).toFuture());
                published.countDown();
                tasks.await();
            }
            return null;
        });
        assertThat(fromClose.get()).hasMessageContaining("close() of group 'self' was called from its own task "
                + "'closer'");
        assertThat(fromAwait.get()).hasMessageContaining("await() of group 'self'");
        assertThat(fromGet.get()).hasMessageContaining("its own future");
    }

    @Test
    void theTimeoutStillBoundsCompletionAfterFailFastCancelledTheGroup() throws Throwable {
        CountDownLatch release = new CountDownLatch(1);
        Throwable failure = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).failFast().timeout(Duration.ofMillis(300)).open()) {
                CountDownLatch stubbornStarted = new CountDownLatch(1);
                tasks.go("stubborn", () -> {
                    stubbornStarted.countDown();
                    Blocking.ignoringInterrupts(release);
                });
                stubbornStarted.await();
                tasks.go("failing", () -> {
                    throw new IOException("fail");
                });
                try {
                    // Completes at the deadline although the stubborn task has not stopped.
                    tasks.completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
                    throw new AssertionError("expected the group to fail");
                } catch (ExecutionException e) {
                    return e.getCause();
                } finally {
                    release.countDown();
                }
            }
        });
        assertThat(failure).isInstanceOf(ChildTaskException.class);
        assertThat(failure.getCause()).hasMessage("fail");
        assertThat(failure.getSuppressed()).singleElement().isInstanceOf(TimeoutException.class);
    }

    @Test
    void awaitNeverReturnsNormallyWhileCancelledTasksAreStillRunning() throws Throwable {
        Throwable[] causes = requests.run(request -> {
            Throwable[] seen = new Throwable[2];
            CountDownLatch release = new CountDownLatch(1);
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch running = new CountDownLatch(1);
                tasks.go(() -> {
                    running.countDown();
                    Blocking.ignoringInterrupts(release);
                });
                running.await();
                tasks.cancel();
                Thread.currentThread().interrupt();
                seen[0] = catchChildTaskException(tasks::await).getCause();
                Thread.interrupted();
                release.countDown();
            }
            CountDownLatch release2 = new CountDownLatch(1);
            try (ChildTasks tasks = ChildTasks.builder(request).timeout(Duration.ofMillis(300)).open()) {
                CountDownLatch running = new CountDownLatch(1);
                tasks.go(() -> {
                    running.countDown();
                    Blocking.ignoringInterrupts(release2);
                });
                running.await();
                tasks.cancel();
                seen[1] = catchChildTaskException(tasks::await).getCause();
                release2.countDown();
            }
            return seen;
        });
        assertThat(causes[0]).isInstanceOf(InterruptedException.class);
        assertThat(causes[1]).isInstanceOf(TimeoutException.class);
    }

    /** An exception whose message cannot be read. */
    static final class Unreadable extends Exception {
        private static final long serialVersionUID = 1L;

        @Override
        public String getMessage() {
            throw new IllegalStateException("getMessage exploded");
        }
    }

    @Test
    void readingAFailureThroughItsFutureNeverCallsTheExceptionsMessage() throws Throwable {
        Throwable cause = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                Future<Object> future = tasks.submit("unreadable", () -> {
                    throw new Unreadable();
                }).toFuture();
                try {
                    future.get(5, TimeUnit.SECONDS);
                    throw new AssertionError("expected a failure");
                } catch (ExecutionException e) {
                    assertThat(e.getMessage()).isEqualTo("task 'unreadable' of group 'tasks' failed");
                    return e.getCause();
                } finally {
                    catchChildTaskException(tasks::await);
                }
            }
        });
        assertThat(cause).isInstanceOf(Unreadable.class);
    }

    @Test
    void aSecondCloseAlsoWaitsUntilEveryTaskHasStopped() throws Throwable {
        requests.run(request -> {
            ChildTasks tasks = ChildTasks.open(request);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch running = new CountDownLatch(1);
            tasks.go(() -> {
                running.countDown();
                Blocking.ignoringInterrupts(release);
            });
            running.await();
            CompletableFuture<Void> first = CompletableFuture.runAsync(tasks::close);
            CompletableFuture<Void> second = CompletableFuture.runAsync(tasks::close);
            assertThatThrownBy(() -> second.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(first).isNotDone();
            release.countDown();
            first.get(5, TimeUnit.SECONDS);
            second.get(5, TimeUnit.SECONDS);
            return null;
        });
        assertThat(tasks("success")).isEqualTo(1);
    }

    @Test
    void aBlockingCallbackOfOneTimedOutGroupDoesNotStallOtherGroupsTimeouts() throws Throwable {
        String callbackThread = requests.run(request -> {
            CountDownLatch releaseA = new CountDownLatch(1);
            CountDownLatch releaseB = new CountDownLatch(1);
            CountDownLatch bTimedOut = new CountDownLatch(1);
            AtomicReference<String> thread = new AtomicReference<>();
            ChildTasks a = ChildTasks.builder(request).name("a").timeout(Duration.ofMillis(100)).open();
            ChildTasks b = ChildTasks.builder(request).name("b").timeout(Duration.ofMillis(400)).open();
            try {
                a.go(() -> Blocking.ignoringInterrupts(releaseA));
                b.go(() -> Blocking.ignoringInterrupts(releaseB));
                a.completion().whenComplete((ok, e) -> {
                    thread.set(Thread.currentThread().getName());
                    try {
                        bTimedOut.await(10, TimeUnit.SECONDS); // blocks until b's timeout has fired
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                    }
                });
                b.completion().whenComplete((ok, e) -> bTimedOut.countDown());
                assertThat(bTimedOut.await(10, TimeUnit.SECONDS)).as("b timed out while a's callback blocked")
                        .isTrue();
            } finally {
                releaseA.countDown();
                releaseB.countDown();
                a.close();
                b.close();
            }
            return thread.get();
        });
        assertThat(callbackThread).doesNotStartWith("backstop-timeout");
    }

    @Test
    void cancellingTheFutureOfARunningTaskIsVisibleAtOnceWhileTheTaskFinishes() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch running = new CountDownLatch(1);
                Future<String> future = tasks.submit(() -> {
                    running.countDown();
                    Blocking.ignoringInterrupts(release);
                    return "finished anyway";
                }).toFuture();
                running.await();
                assertThat(future.cancel(false)).isTrue();
                assertThat(future.isCancelled()).isTrue();
                assertThat(future.isDone()).isTrue();
                assertThatThrownBy(future::get).isInstanceOf(CancellationException.class);
                assertThat(future.cancel(true)).isFalse();
                release.countDown();
                tasks.await();
            }
            return null;
        });
        assertThat(tasks("success")).isEqualTo(1);
    }
}
