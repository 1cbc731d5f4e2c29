package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.MDC;

/**
 * The four traps outside any request, each with its Backstop fix: a future nobody reads, a periodic task that
 * throws, a {@code CompletableFuture} without a handler, and a thread that dies of an exception.
 */
class BeyondTheRequestTest {

    @RegisterExtension
    final Harness harness = new Harness();

    // Every failure logged in full: no log-storm summary from this class may land in a later test's captured logs.
    private final Backstop backstop = Backstop.builder().meterRegistry(harness.registry())
            .logStormInterval(Duration.ZERO).build();
    private Queue<Throwable> reachedDefaultHandler;

    @BeforeEach
    void watch() {
        reachedDefaultHandler = harness.watchUncaught();
    }

    /** Runs before the harness shuts the executors down and puts the handler from before the test back. */
    @AfterEach
    void uninstall() {
        backstop.uninstallUncaughtExceptionHandler();
    }

    private double panics(String source) {
        return harness.count("backstop.panics", "source", source);
    }

    private List<ILoggingEvent> errorsFrom(String source) {
        return harness.errors().stream().filter(e -> e.getFormattedMessage().contains("source=" + source)).toList();
    }

    @Test
    void anUncheckedFailureOfASubmittedTaskIsReportedAtOnceEvenIfTheFutureIsDropped() {
        ExecutorService executor = backstop.guard(harness.shutdownAfter(Executors.newSingleThreadExecutor()));
        executor.submit(() -> {
            throw new IllegalStateException("nobody reads my future");
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> panics("executor") == 1);
        assertThat(errorsFrom("executor")).singleElement().satisfies(event -> {
            assertThat(event.getFormattedMessage()).startsWith("panic errorId=")
                    .contains("exception=java.lang.IllegalStateException", "nobody reads my future");
            assertThat(event.getThrowableProxy()).isNotNull();
        });
        assertThat(harness.count("backstop.panics", "source", "executor", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(reachedDefaultHandler).isEmpty();
    }

    @Test
    void theFutureOfAnUncheckedFailureStillHoldsIt() throws Exception {
        ExecutorService executor = backstop.guard(harness.shutdownAfter(Executors.newSingleThreadExecutor()));
        Future<?> future = executor.submit(() -> {
            throw new IllegalArgumentException("read me");
        });
        assertThatThrownBy(() -> future.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().hasMessage("read me");
        assertThat(panics("executor")).isEqualTo(1);
    }

    @Test
    void aFailingExecuteNeitherKillsThePoolThreadNorReachesTheUncaughtHandler() throws Exception {
        ExecutorService executor = backstop.guard(harness.shutdownAfter(Executors.newSingleThreadExecutor()));
        AtomicReference<Thread> first = new AtomicReference<>();
        executor.execute(() -> {
            first.set(Thread.currentThread());
            throw new IllegalStateException("execute failed");
        });
        Thread second = executor.submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
        assertThat(second).isSameAs(first.get());
        assertThat(panics("executor")).isEqualTo(1);
        assertThat(reachedDefaultHandler).isEmpty();
    }

    @Test
    void aCheckedFailureIsReportedWhenItsFutureIsDroppedUnread() {
        ExecutorService executor = backstop.guard(harness.shutdownAfter(Executors.newSingleThreadExecutor()));
        CountDownLatch failed = new CountDownLatch(1);
        executor.submit(() -> {
            failed.countDown();
            throw new IOException("lost in a dropped future");
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc(); // the dropped future is collected; its failure must not be
            return panics("executor") == 1;
        });
        assertThat(errorsFrom("executor")).singleElement().satisfies(event -> assertThat(
                event.getFormattedMessage()).contains("exception=java.io.IOException", "lost in a dropped future"));
    }

    @Test
    void aCheckedFailureReadThroughItsFutureIsNotReported() throws Exception {
        ExecutorService executor = backstop.guard(harness.shutdownAfter(Executors.newSingleThreadExecutor()));
        Future<String> future = executor.submit(() -> {
            throw new IOException("handled by the reader");
        });
        assertThatThrownBy(() -> future.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IOException.class);
        List<Future<Object>> all = executor.invokeAll(List.of(() -> {
            throw new IOException("read through invokeAll");
        }));
        assertThatThrownBy(() -> all.get(0).get()).isInstanceOf(ExecutionException.class);
        // Prove the reporting path is live: a dropped checked failure after the read ones does get reported.
        executor.submit(() -> {
            throw new IOException("dropped");
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc();
            return panics("executor") >= 1;
        });
        assertThat(errorsFrom("executor")).singleElement()
                .satisfies(event -> assertThat(event.getFormattedMessage()).contains("dropped"));
        assertThat(future).isNotNull(); // still reachable: read, so never reported
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aPeriodicTaskFailingOnItsThirdRunIsReportedAndKeepsOrLosesItsSchedule(boolean cancelFailed)
            throws Exception {
        Backstop configured = Backstop.builder().meterRegistry(harness.registry()).logStormInterval(Duration.ZERO)
                .cancelFailedPeriodicTasks(cancelFailed)
                .build();
        ScheduledExecutorService scheduler =
                configured.guard(harness.shutdownAfter(Executors.newSingleThreadScheduledExecutor()));
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch fifthRun = new CountDownLatch(1);
        ScheduledFuture<?> periodic = scheduler.scheduleAtFixedRate(() -> {
            int run = runs.incrementAndGet();
            if (run == 5) {
                fifthRun.countDown();
            }
            if (run == 3) {
                throw new IllegalStateException("third run failed");
            }
        }, 0, 5, TimeUnit.MILLISECONDS);

        if (cancelFailed) {
            assertThatThrownBy(() -> periodic.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().hasMessage("third run failed");
            // One more task through the same single thread: every run the schedule had is over by then.
            scheduler.submit(() -> { }).get(5, TimeUnit.SECONDS);
            assertThat(runs).hasValue(3);
        } else {
            assertThat(fifthRun.await(5, TimeUnit.SECONDS)).as("the schedule went on after the failure").isTrue();
            assertThat(periodic.isDone()).isFalse();
            periodic.cancel(false);
        }
        assertThat(panics("executor")).isEqualTo(1);
        assertThat(errorsFrom("executor")).singleElement()
                .satisfies(event -> assertThat(event.getFormattedMessage()).contains("third run failed"));
    }

    @Test
    void aCompletableFutureFailingUnobservedIsReportedAndOneHandledByThePipelineIsNot() {
        ExecutorService pool = harness.shutdownAfter(Executors.newSingleThreadExecutor());
        CompletableFuture<Void> handled = backstop.guard(CompletableFuture.runAsync(() -> {
            throw new IllegalStateException("recovered downstream");
        }, pool).exceptionally(failure -> null));
        handled.join();
        CompletableFuture<Void> unhandled = backstop.guard(CompletableFuture.runAsync(() -> {
            throw new IllegalStateException("nobody handles me");
        }, pool));
        await().atMost(Duration.ofSeconds(5)).until(unhandled::isDone);
        await().atMost(Duration.ofSeconds(5)).until(() -> panics("executor") == 1);
        assertThat(errorsFrom("executor")).singleElement().satisfies(event -> assertThat(
                event.getFormattedMessage()).contains("exception=java.lang.IllegalStateException",
                "nobody handles me"));
        CompletableFuture<Void> cancelled = backstop.guard(new CompletableFuture<>());
        cancelled.cancel(true);
        assertThat(panics("executor")).as("cancellation is not a failure").isEqualTo(1);
    }

    @Test
    void theSubmittersMdcIsCarriedIntoTheTaskAndClearedAfter() throws Exception {
        ExecutorService raw = harness.shutdownAfter(Executors.newSingleThreadExecutor());
        ExecutorService executor = backstop.guard(raw);
        MDC.put("requestId", "req-99");
        Future<Map<String, String>> inTask;
        try {
            inTask = executor.submit(MDC::getCopyOfContextMap);
        } finally {
            MDC.remove("requestId");
        }
        assertThat(inTask.get(5, TimeUnit.SECONDS)).containsEntry("requestId", "req-99");
        Map<String, String> after = raw.submit(MDC::getCopyOfContextMap).get(5, TimeUnit.SECONDS);
        assertThat(after == null || after.isEmpty()).as("MDC on the same thread after: %s", after).isTrue();
    }

    @Test
    void shutdownAndCloseAreTheWrappedExecutors() throws Exception {
        ExecutorService raw = harness.shutdownAfter(Executors.newFixedThreadPool(2));
        ExecutorService executor = backstop.guard(raw);
        CountDownLatch running = new CountDownLatch(1);
        Future<?> task = executor.submit(() -> {
            running.countDown();
            return "done";
        });
        running.await();
        executor.shutdown();
        assertThat(raw.isShutdown()).isTrue();
        assertThat(executor.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        assertThat(raw.isTerminated()).isTrue();
        assertThat(task.get()).isEqualTo("done");

        ExecutorService closing = harness.shutdownAfter(Executors.newSingleThreadExecutor());
        ((dev.backstop.internal.executor.GuardedExecutorService) backstop.guard(closing)).close();
        assertThat(closing.isTerminated()).isTrue();
    }

    @Test
    void aRawThreadThatThrowsIsReportedAndHandedToThePreviousHandler() throws Exception {
        backstop.installUncaughtExceptionHandler();
        Thread thread = new Thread(() -> {
            throw new IllegalStateException("raw thread died");
        }, "raw-worker");
        thread.start();
        thread.join();
        assertThat(panics("thread")).isEqualTo(1);
        assertThat(errorsFrom("thread")).singleElement().satisfies(event -> {
            assertThat(event.getFormattedMessage()).contains("raw thread died");
            assertThat(event.getThreadName()).isEqualTo("raw-worker");
        });
        assertThat(reachedDefaultHandler).as("delegated to the handler installed before")
                .singleElement().satisfies(failure -> assertThat(failure).hasMessage("raw thread died"));
    }

    @Test
    void installAndUninstallAreIdempotentAndRestoreThePreviousHandler() throws Exception {
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        backstop.installUncaughtExceptionHandler();
        Thread.UncaughtExceptionHandler installed = Thread.getDefaultUncaughtExceptionHandler();
        assertThat(installed).isNotSameAs(previous);
        backstop.installUncaughtExceptionHandler();
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(installed);

        Thread thread = new Thread(() -> {
            throw new IllegalStateException("once");
        });
        thread.start();
        thread.join();
        assertThat(panics("thread")).as("installed twice, reported once").isEqualTo(1);

        backstop.uninstallUncaughtExceptionHandler();
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(previous);
        backstop.uninstallUncaughtExceptionHandler();
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(previous);
    }

    @Test
    void threadsOfAGuardedPlatformFactoryReportTheirFailureInsteadOfDyingLoudly() throws Exception {
        ThreadFactory factory = backstop.guard(Executors.defaultThreadFactory());
        Thread thread = factory.newThread(() -> {
            throw new IllegalStateException("platform thread failed");
        });
        thread.start();
        thread.join();
        assertThat(harness.count("backstop.panics", "source", "thread", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(reachedDefaultHandler).isEmpty();
    }

    @Test
    void threadsOfAGuardedVirtualFactoryReportTheirFailureOnJava21AndLater() throws Exception {
        assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21+; CI runs this on 25");
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        ThreadFactory virtual = (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory")
                .invoke(builder);
        Thread thread = backstop.guard(virtual).newThread(() -> {
            throw new IllegalStateException("virtual thread failed");
        });
        assertThat((Boolean) Thread.class.getMethod("isVirtual").invoke(thread)).isTrue();
        thread.start();
        thread.join();
        assertThat(panics("thread")).isEqualTo(1);
        assertThat(reachedDefaultHandler).isEmpty();
    }

    @Test
    void aTaskStoppedByCancelOrShutdownIsNotAPanicButAGenuineFailureAfterCancelIs() throws Exception {
        ExecutorService executor = backstop.guard(harness.shutdownAfter(Executors.newFixedThreadPool(2)));
        CountDownLatch started = new CountDownLatch(2);
        Future<Object> checked = executor.submit(() -> {
            started.countDown();
            new CountDownLatch(1).await();
            return null;
        });
        Future<?> unchecked = executor.submit(() -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                throw new IllegalStateException("stopped", e);
            }
        });
        started.await();
        checked.cancel(true);
        unchecked.cancel(true);
        assertThatThrownBy(checked::get).isInstanceOf(java.util.concurrent.CancellationException.class);
        // The control: a genuine checked failure, dropped unread, is reported; the cancelled ones never are.
        executor.submit(() -> {
            throw new IOException("the control");
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc();
            return panics("executor") >= 1;
        });
        assertThat(errorsFrom("executor")).singleElement()
                .satisfies(event -> assertThat(event.getFormattedMessage()).contains("the control"));
    }

    @Test
    void aCheckedFailureIsReportedWhenInvokeAllThrowsAndNobodyCanHoldTheFutures() throws Exception {
        ExecutorService executor = backstop.guard(harness.shutdownAfter(Executors.newFixedThreadPool(2)));
        CountDownLatch failed = new CountDownLatch(1);
        AtomicReference<Throwable> invokeAllThrew = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                executor.invokeAll(List.<java.util.concurrent.Callable<Object>>of(() -> {
                    failed.countDown();
                    throw new IOException("lost with invokeAll");
                }, () -> {
                    new CountDownLatch(1).await();
                    return null;
                }));
            } catch (Throwable t) {
                invokeAllThrew.set(t);
            }
        });
        caller.start();
        failed.await();
        caller.interrupt();
        caller.join();
        assertThat(invokeAllThrew.get()).isInstanceOf(InterruptedException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> panics("executor") == 1);
        assertThat(errorsFrom("executor")).singleElement()
                .satisfies(event -> assertThat(event.getFormattedMessage()).contains("lost with invokeAll"));
    }

    @Test
    void handlersUninstalledInAnyOrderLeaveTheOriginalHandler() {
        Thread.UncaughtExceptionHandler original = Thread.getDefaultUncaughtExceptionHandler();
        Backstop other = Backstop.builder().meterRegistry(harness.registry()).logStormInterval(Duration.ZERO).build();
        backstop.installUncaughtExceptionHandler();
        other.installUncaughtExceptionHandler();
        backstop.uninstallUncaughtExceptionHandler();
        other.uninstallUncaughtExceptionHandler();
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(original);
    }

    @Test
    void aHandlerUninstalledBelowANewerOneLeavesTheChainAndTheNewerDelegatesPastIt() throws Exception {
        Thread.UncaughtExceptionHandler original = Thread.getDefaultUncaughtExceptionHandler();
        Backstop newer = harness.closeAfter(Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(Duration.ZERO).build());
        backstop.installUncaughtExceptionHandler();
        newer.installUncaughtExceptionHandler();
        Thread.UncaughtExceptionHandler top = Thread.getDefaultUncaughtExceptionHandler();

        backstop.uninstallUncaughtExceptionHandler(); // the older one goes while the newer one sits on top

        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(top);
        assertThat(((java.util.function.Supplier<?>) top).get()).as("the newer handler now delegates past it")
                .isSameAs(original);
        Thread thread = new Thread(() -> {
            throw new IllegalStateException("after the older one left");
        });
        thread.start();
        thread.join();
        assertThat(panics("thread")).as("reported once, by the newer handler").isEqualTo(1);
        assertThat(reachedDefaultHandler).singleElement()
                .satisfies(failure -> assertThat(failure).hasMessage("after the older one left"));

        newer.uninstallUncaughtExceptionHandler();
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(original);
    }

    @Test
    void aHandlerUnderAnotherLibrarysStaysInTheChainAndOnlyPassesFailuresOn() throws Exception {
        Thread.UncaughtExceptionHandler original = Thread.getDefaultUncaughtExceptionHandler();
        backstop.installUncaughtExceptionHandler();
        Thread.UncaughtExceptionHandler ours = Thread.getDefaultUncaughtExceptionHandler();
        Thread.UncaughtExceptionHandler library = (thread, failure) -> ours.uncaughtException(thread, failure);
        Thread.setDefaultUncaughtExceptionHandler(library);
        try {
            backstop.uninstallUncaughtExceptionHandler();

            assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(library);
            Thread thread = new Thread(() -> {
                throw new IllegalStateException("through the library's handler");
            });
            thread.start();
            thread.join();
            assertThat(panics("thread")).as("uninstalled: no longer reports").isZero();
            assertThat(reachedDefaultHandler).as("but still passes the failure on").singleElement()
                    .satisfies(failure -> assertThat(failure).hasMessage("through the library's handler"));
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(original);
        }
    }

    @Test
    void tasksNeverSeeWhatAnEarlierTaskLeftInTheMdc() throws Exception {
        ExecutorService executor = backstop.guard(harness.shutdownAfter(Executors.newSingleThreadExecutor()));
        executor.submit(() -> MDC.put("user", "alice")).get(5, TimeUnit.SECONDS);
        Map<String, String> next = executor.submit(MDC::getCopyOfContextMap).get(5, TimeUnit.SECONDS);
        assertThat(next == null || next.isEmpty()).as("MDC of the next task: %s", next).isTrue();
    }

    private static final IllegalStateException SAME_EVERY_TIME = new IllegalStateException("preallocated");

    @Test
    void aPeriodicTaskThrowingTheSameObjectEveryRunIsReportedForEveryRun() throws Exception {
        ScheduledExecutorService scheduler =
                backstop.guard(harness.shutdownAfter(Executors.newSingleThreadScheduledExecutor()));
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> periodic = scheduler.scheduleWithFixedDelay(() -> {
            if (runs.incrementAndGet() <= 3) {
                throw SAME_EVERY_TIME;
            }
        }, 0, 5, TimeUnit.MILLISECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() > 3);
        periodic.cancel(false);
        assertThat(panics("executor")).isEqualTo(3);
    }
}
