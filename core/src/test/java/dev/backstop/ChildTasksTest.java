package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Blocking;
import dev.backstop.testing.Harness;
import dev.backstop.testing.InRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The group semantics of {@link ChildTasks}, each scenario run inside a real request on Jetty: waiting, failures,
 * fail-fast, limits, timeouts, futures, interrupts and the checked/unchecked reporting rule.
 */
class ChildTasksTest {

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

    private double childPanics() {
        return harness.count("backstop.panics", "source", "child");
    }

    @Test
    void hundredTasksAllRunAndAwaitReturnsNormally() throws Throwable {
        AtomicInteger ran = new AtomicInteger();
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                for (int i = 0; i < 100; i++) {
                    tasks.go(ran::incrementAndGet);
                }
                tasks.await();
            }
            return null;
        });
        assertThat(ran).hasValue(100);
        assertThat(tasks("success")).isEqualTo(100);
        assertThat(harness.at(Level.WARN)).isEmpty();
        assertThat(harness.errors()).isEmpty();
    }

    @Test
    void oneFailureAmongManyLetsTheOthersCompleteUnderTheDefaultPolicy() throws Throwable {
        AtomicInteger completed = new AtomicInteger();
        CountDownLatch failed = new CountDownLatch(1);
        ChildTaskException thrown = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go("bad", () -> {
                    failed.countDown();
                    throw new IllegalStateException("boom");
                });
                for (int i = 0; i < 20; i++) {
                    tasks.go(() -> {
                        // Finish only after the failure, to show that it did not cancel anything.
                        failed.await();
                        completed.incrementAndGet();
                    });
                }
                return catchChildTaskException(tasks::await);
            }
        });
        assertThat(completed).hasValue(20);
        assertThat(thrown.getCause()).isInstanceOf(IllegalStateException.class).hasMessage("boom");
        assertThat(thrown.getSuppressed()).isEmpty();
        assertThat(thrown.getMessage()).contains("1 of 21 tasks", "'tasks'", "boom");
        assertThat(tasks("success")).isEqualTo(20);
        assertThat(tasks("panic")).isEqualTo(1);
        assertThat(tasks("cancelled")).isZero();
    }

    @Test
    void threeFailuresGiveTheFirstAsCauseAndTwoSuppressed() throws Throwable {
        ChildTaskException thrown = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).name("three").open()) {
                CountDownLatch order = new CountDownLatch(1);
                tasks.go(() -> {
                    order.countDown();
                    throw new IllegalStateException("first");
                });
                order.await();
                await().until(() -> childPanics() == 1);
                tasks.go(() -> {
                    throw new IOException("second");
                });
                tasks.go(() -> {
                    throw new IllegalArgumentException("third");
                });
                tasks.go(() -> { });
                return catchChildTaskException(tasks::await);
            }
        });
        assertThat(thrown.getCause()).hasMessage("first");
        assertThat(thrown.getSuppressed()).extracting(Throwable::getMessage)
                .containsExactlyInAnyOrder("second", "third");
        assertThat(thrown.getMessage()).contains("3 of 4 tasks in group 'three' failed", "2 more attached");
        assertThat(thrown.errorId()).isEqualTo(harness.errors().stream()
                .filter(e -> e.getFormattedMessage().contains("message=\"first\""))
                .findFirst().orElseThrow().getMDCPropertyMap().get("errorId"));
    }

    @Test
    void failFastInterruptsABlockedSiblingAndAwaitReturnsQuickly() throws Throwable {
        CountDownLatch siblingStarted = new CountDownLatch(1);
        AtomicBoolean siblingInterrupted = new AtomicBoolean();
        long[] elapsed = new long[1];
        ChildTaskException thrown = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).failFast().open()) {
                long start = System.nanoTime();
                tasks.go("slow", () -> {
                    siblingStarted.countDown();
                    try {
                        new CountDownLatch(1).await(10, TimeUnit.SECONDS); // blocked for 10 s unless interrupted
                    } catch (InterruptedException e) {
                        siblingInterrupted.set(true);
                        throw e;
                    }
                });
                siblingStarted.await();
                tasks.go("failing", () -> {
                    throw new IllegalStateException("fail fast");
                });
                ChildTaskException e = catchChildTaskException(tasks::await);
                elapsed[0] = System.nanoTime() - start;
                assertThat(tasks.isCancelled()).isTrue();
                return e;
            }
        });
        assertThat(Duration.ofNanos(elapsed[0])).isLessThan(Duration.ofSeconds(3));
        assertThat(siblingInterrupted).isTrue();
        assertThat(thrown.getCause()).hasMessage("fail fast");
        assertThat(thrown.getSuppressed()).isEmpty();
        assertThat(tasks("cancelled")).isEqualTo(1);
        assertThat(tasks("panic")).isEqualTo(1);
        // The interrupted sibling is a consequence, not a failure: one ERROR event in all.
        assertThat(harness.errors()).hasSize(1);
    }

    @Test
    void aFailureAfterTheGroupWasCancelledIsStillLoggedCountedAndReturned() throws Throwable {
        ChildTaskException thrown = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).name("late").failFast().open()) {
                CountDownLatch started = new CountDownLatch(1);
                tasks.go("cleanup", () -> {
                    started.countDown();
                    try {
                        new CountDownLatch(1).await();
                    } catch (InterruptedException cancelled) {
                        // Cancelled, then failing on its way out: StructuredTaskScope would drop this one.
                        throw new IllegalStateException("cleanup failed after cancel");
                    }
                });
                started.await();
                tasks.go("first", () -> {
                    throw new IllegalArgumentException("first failure");
                });
                return catchChildTaskException(tasks::await);
            }
        });
        assertThat(thrown.getCause()).hasMessage("first failure");
        assertThat(thrown.getSuppressed()).extracting(Throwable::getMessage)
                .containsExactly("cleanup failed after cancel");
        assertThat(harness.errors()).extracting(ILoggingEvent::getFormattedMessage)
                .anySatisfy(line -> assertThat(line).contains("task=first"))
                .anySatisfy(line -> assertThat(line).contains("task=cleanup", "cleanup failed after cancel"))
                .hasSize(2);
        assertThat(childPanics()).isEqualTo(2);
        assertThat(tasks("panic")).isEqualTo(2);
        assertThat(tasks("cancelled")).isZero();
    }

    @Test
    void failFastNeverStartsQueuedTasksAndCountsThemCancelled() throws Throwable {
        ExecutorService single = harness.shutdownAfter(Executors.newSingleThreadExecutor());
        InRequest onOneThread = harness.inRequest(harness.filter().childTaskExecutor(single).build());
        AtomicInteger queuedRan = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        ChildTaskException thrown = onOneThread.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).failFast().open()) {
                tasks.go(() -> {
                    release.await();
                    throw new IllegalStateException("first");
                });
                for (int i = 0; i < 5; i++) {
                    tasks.go(queuedRan::incrementAndGet); // queued behind the first on the only thread
                }
                release.countDown();
                ChildTaskException e = catchChildTaskException(tasks::await);
                // After the cancel, go() starts nothing either.
                tasks.go(queuedRan::incrementAndGet);
                assertThat(tasks.tryGo(queuedRan::incrementAndGet)).isFalse();
                return e;
            }
        });
        assertThat(thrown.getCause()).hasMessage("first");
        assertThat(queuedRan).hasValue(0);
        assertThat(tasks("cancelled")).isEqualTo(6);
    }

    @Test
    void aLimitOfTenIsNeverExceededAcrossTwoHundredTasks() throws Throwable {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).limit(10).open()) {
                for (int i = 0; i < 200; i++) {
                    tasks.go(() -> {
                        int now = running.incrementAndGet();
                        most.accumulateAndGet(now, Math::max);
                        Thread.yield();
                        running.decrementAndGet();
                    });
                }
                tasks.await();
            }
            return null;
        });
        assertThat(most.get()).isBetween(1, 10);
        assertThat(tasks("success")).isEqualTo(200);
    }

    @Test
    void tryGoRefusesAtTheLimitAndSucceedsOnceASlotFrees() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).limit(2).open()) {
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch firstDone = new CountDownLatch(1);
                assertThat(tasks.tryGo(() -> {
                    release.await();
                    firstDone.countDown();
                })).isTrue();
                CountDownLatch secondRelease = new CountDownLatch(1);
                assertThat(tasks.tryGo(secondRelease::await)).isTrue();
                assertThat(tasks.tryGo(() -> { })).isFalse();
                release.countDown();
                firstDone.await();
                await().atMost(Duration.ofSeconds(5)).until(() -> tasks.tryGo(() -> { }));
                secondRelease.countDown();
                tasks.await();
            }
            return null;
        });
        assertThat(tasks("success")).isEqualTo(3);
        assertThat(tasks("rejected")).isZero();
    }

    @Test
    void goWaitsForASlotWhenTheLimitIsReached() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).limit(1).open()) {
                CountDownLatch release = new CountDownLatch(1);
                tasks.go(release::await);
                CompletableFuture<Void> second = CompletableFuture.runAsync(() -> tasks.go(() -> { }));
                assertThatThrownBy(() -> second.get(200, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
                release.countDown();
                second.get(5, TimeUnit.SECONDS);
                tasks.await();
            }
            return null;
        });
        assertThat(tasks("success")).isEqualTo(2);
    }

    @Test
    void aTimeoutCancelsTheGroupAndAwaitThrowsTimeoutException() throws Throwable {
        AtomicBoolean interrupted = new AtomicBoolean();
        long[] elapsed = new long[1];
        ChildTaskException thrown = requests.run(request -> {
            long start = System.nanoTime();
            try (ChildTasks tasks = ChildTasks.builder(request).name("slow").timeout(Duration.ofMillis(500)).open()) {
                CountDownLatch started = new CountDownLatch(1);
                tasks.go(Blocking.untilInterrupted(started, interrupted));
                // Bounded: a task that has not started by the deadline never will.
                assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
                ChildTaskException e = catchChildTaskException(tasks::await);
                elapsed[0] = System.nanoTime() - start;
                return e;
            }
        });
        assertThat(thrown.getCause()).isInstanceOf(TimeoutException.class);
        assertThat(thrown.getMessage()).contains("'slow' timed out after PT0.5S");
        assertThat(Duration.ofNanos(elapsed[0])).isGreaterThanOrEqualTo(Duration.ofMillis(500))
                .isLessThan(Duration.ofSeconds(3));
        assertThat(interrupted).isTrue();
        assertThat(tasks("cancelled")).isEqualTo(1);
        assertThat(harness.errors()).isEmpty();
    }

    @Test
    void submitReturnsValuesAndFailuresThroughFutures() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                Future<Integer> answer = tasks.submit("answer", () -> 42).toFuture();
                Future<String> failing = tasks.<String>submit("failing", () -> {
                    throw new IOException("not found");
                }).toFuture();
                assertThat(answer.get(5, TimeUnit.SECONDS)).isEqualTo(42);
                assertThatThrownBy(failing::get).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(IOException.class).hasMessage("not found");
                assertThat(failing.isDone()).isTrue();
                assertThat(failing.isCancelled()).isFalse();
            }
            return null;
        });
        assertThat(tasks("success")).isEqualTo(1);
        assertThat(tasks("failure")).isEqualTo(1);
        // Read through get(): observed, so closing the group logs nothing.
        assertThat(harness.logs().all()).isEmpty();
    }

    @Test
    void cancellingAFutureInterruptsItsTask() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch started = new CountDownLatch(1);
                Future<Void> blocked = tasks.submit(() -> {
                    started.countDown();
                    new CountDownLatch(1).await();
                    return (Void) null;
                }).toFuture();
                started.await();
                blocked.cancel(true);
                assertThatThrownBy(() -> blocked.get(5, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
                assertThat(blocked.isCancelled()).isTrue();
                assertThat(catchChildTaskException(tasks::await).getCause())
                        .isInstanceOf(CancellationException.class);
            }
            return null;
        });
        assertThat(tasks("cancelled")).isEqualTo(1);
    }

    @Test
    void uncheckedFailuresArePanicsLoggedAtOnceWithRequestGroupAndTask() throws Throwable {
        CountDownLatch logged = new CountDownLatch(1);
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).name("checkout").open()) {
                tasks.go("price", () -> {
                    throw new IllegalStateException("no price");
                });
                // Logged in the task's thread, before anybody waits.
                await().atMost(Duration.ofSeconds(5)).until(() -> harness.errors().size() == 1);
                logged.countDown();
                catchChildTaskException(tasks::await);
            }
            return null;
        });
        ILoggingEvent event = harness.errors().get(0);
        assertThat(event.getFormattedMessage()).startsWith("panic errorId=")
                .contains("source=child", "method=GET", "path=/run", "group=checkout", "task=price",
                        "exception=java.lang.IllegalStateException", "message=\"no price\"");
        assertThat(event.getThrowableProxy().getClassName()).isEqualTo(IllegalStateException.class.getName());
        if (Runtime.version().feature() >= 21) {
            // The default executor runs a virtual thread per task, named after the group and task while it runs.
            assertThat(event.getThreadName()).isEqualTo("checkout/price (backstop)");
        } else {
            // Java 17: a pool of platform threads, which keep their own names.
            assertThat(event.getThreadName()).startsWith("backstop-task-");
        }
        assertThat(harness.count("backstop.panics", "source", "child", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(tasks("panic")).isEqualTo(1);
    }

    @Test
    void checkedFailuresAreErrorsNotPanicsAndAreLoggedOnlyWhenUnobserved() throws Throwable {
        requests.run(request -> {
            try (ChildTasks observed = ChildTasks.builder(request).name("observed").open()) {
                observed.go(() -> {
                    throw new IOException("seen");
                });
                assertThat(catchChildTaskException(observed::await).getCause()).hasMessage("seen");
            }
            try (ChildTasks ignored = ChildTasks.builder(request).name("ignored").open()) {
                CountDownLatch done = new CountDownLatch(1);
                ignored.go("lost", () -> {
                    done.countDown();
                    throw new IOException("nobody looked");
                });
                done.await();
                await().until(() -> tasks("failure") == 2);
            }
            return null;
        });
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.count("backstop.panics")).isZero();
        assertThat(tasks("failure")).isEqualTo(2);
        List<ILoggingEvent> warnings = harness.at(Level.WARN);
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).getFormattedMessage()).startsWith("unobserved child task failure")
                .contains("group=ignored", "task=lost", "exception=java.io.IOException", "nobody looked");
        assertThat(warnings.get(0).getThrowableProxy().getMessage()).isEqualTo("nobody looked");
    }

    @Test
    void interruptingTheWaitingThreadCancelsTheGroupAndKeepsTheInterrupt() throws Throwable {
        AtomicBoolean childInterrupted = new AtomicBoolean();
        Object[] seen = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch started = new CountDownLatch(1);
                tasks.go(Blocking.untilInterrupted(started, childInterrupted));
                started.await();
                Thread.currentThread().interrupt();
                ChildTaskException e = catchChildTaskException(tasks::await);
                boolean flagKept = Thread.interrupted(); // read and clear, so the container's thread is clean
                return new Object[] {e, flagKept, tasks.isCancelled()};
            }
        });
        assertThat(((ChildTaskException) seen[0]).getCause()).isInstanceOf(InterruptedException.class);
        assertThat(seen[1]).isEqualTo(true);
        assertThat(seen[2]).isEqualTo(true);
        assertThat(childInterrupted).isTrue();
        assertThat(tasks("cancelled")).isEqualTo(1);
    }

    @Test
    void completionCompletesWithTheSameExceptionAwaitThrows() throws Throwable {
        Object[] both = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go(() -> {
                    throw new IOException("late");
                });
                tasks.go(() -> { });
                CompletableFuture<Throwable> failure = new CompletableFuture<>();
                tasks.completion().whenComplete((ok, e) -> failure.complete(e));
                Throwable fromStage = failure.get(5, TimeUnit.SECONDS);
                return new Object[] {fromStage, catchChildTaskException(tasks::await)};
            }
        });
        assertThat(both[0]).isInstanceOf(ChildTaskException.class).isSameAs(both[1]);
        assertThat(((Throwable) both[0]).getCause()).hasMessage("late");
        assertThat(harness.logs().all()).isEmpty();
    }

    @Test
    void completionOfASuccessfulGroupCompletesNormally() throws Throwable {
        Object value = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go(() -> { });
                return tasks.completion().toCompletableFuture().get(5, TimeUnit.SECONDS);
            }
        });
        assertThat(value).isNull();
        assertThat(tasks("success")).isEqualTo(1);
    }

    @Test
    void closeCancelsUnfinishedTasksWaitsForThemAndForbidsNewOnes() throws Throwable {
        AtomicBoolean stopped = new AtomicBoolean();
        requests.run(request -> {
            ChildTasks tasks = ChildTasks.open(request);
            CountDownLatch started = new CountDownLatch(1);
            tasks.go(() -> {
                started.countDown();
                try {
                    new CountDownLatch(1).await();
                } finally {
                    stopped.set(true);
                }
            });
            started.await();
            tasks.close();
            assertThat(stopped).as("close() returns after the task stopped").isTrue();
            assertThatThrownBy(() -> tasks.go(() -> { })).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
            assertThat(tasks.tryGo(() -> { })).isFalse();
            tasks.close();
            return null;
        });
        assertThat(tasks("cancelled")).isEqualTo(1);
        assertThat(harness.logs().all()).isEmpty();
    }

    @Test
    void optionsAreFixedOnceTheGroupIsOpenAndBadOnesAreRefused() throws Throwable {
        requests.run(request -> {
            ChildTasks.Builder builder = ChildTasks.builder(request).name("fixed");
            assertThatThrownBy(() -> builder.limit(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("limit must be at least 1, but was 0");
            assertThatThrownBy(() -> builder.timeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("timeout must be positive");
            try (ChildTasks tasks = builder.open()) {
                assertThat(tasks.name()).isEqualTo("fixed");
                assertThatThrownBy(() -> builder.limit(4)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("fixed once it is open");
                assertThatThrownBy(builder::failFast).isInstanceOf(IllegalStateException.class);
            }
            return null;
        });
    }

    @Test
    void theApplicationWideCapRejectsAndCountsBeyondIt() throws Throwable {
        InRequest capped = harness.inRequest(harness.filter().maxChildTasks(2).build());
        capped.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch release = new CountDownLatch(1);
                tasks.go(release::await);
                tasks.go(release::await);
                assertThatThrownBy(() -> tasks.go(() -> { })).isInstanceOf(RejectedExecutionException.class)
                        .hasMessageContaining("2 child tasks are already running")
                        .hasMessageContaining("max-child-tasks");
                assertThat(tasks.tryGo(() -> { })).isFalse();
                release.countDown();
                tasks.await();
                tasks.go(() -> { }); // a slot is free again
                tasks.await();
            }
            return null;
        });
        assertThat(tasks("rejected")).isEqualTo(2);
        assertThat(tasks("success")).isEqualTo(3);
    }

    @Test
    void theActiveGaugeShowsRunningTasks() throws Throwable {
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch started = new CountDownLatch(3);
                for (int i = 0; i < 3; i++) {
                    tasks.go(() -> {
                        started.countDown();
                        release.await();
                    });
                }
                started.await();
                assertThat(harness.gauge("backstop.tasks.active", "kind", "scoped")).isEqualTo(3);
                release.countDown();
                tasks.await();
            }
            return null;
        });
        await().untilAsserted(() -> assertThat(harness.gauge("backstop.tasks.active", "kind", "scoped")).isZero());
    }

    @Test
    void tasksMayStartSiblingsThatAwaitAlsoWaitsFor() throws Throwable {
        Set<String> ran = ConcurrentHashMap.newKeySet();
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go("parent", () -> {
                    ran.add("parent");
                    tasks.go("child", () -> ran.add("child"));
                });
                tasks.await();
            }
            return null;
        });
        assertThat(ran).containsExactlyInAnyOrder("parent", "child");
    }

    @Test
    void defaultExecutorUsesVirtualThreadsOnJava21AndLaterAndPlatformThreadsBefore() throws Throwable {
        AtomicReference<Thread> thread = new AtomicReference<>();
        requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go(() -> thread.set(Thread.currentThread()));
                tasks.await();
            }
            return null;
        });
        boolean virtual;
        try {
            virtual = (Boolean) Thread.class.getMethod("isVirtual").invoke(thread.get());
        } catch (NoSuchMethodException java17) {
            virtual = false;
        }
        assertThat(virtual).isEqualTo(Runtime.version().feature() >= 21);
        assertThat(thread.get().isDaemon()).isTrue();
    }

    static ChildTaskException catchChildTaskException(Runnable action) {
        try {
            action.run();
        } catch (ChildTaskException e) {
            return e;
        }
        throw new AssertionError("expected a ChildTaskException");
    }
}
