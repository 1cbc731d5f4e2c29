package dev.backstop;

import static dev.backstop.ChildTasksTest.catchChildTaskException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.ChildTasks.Cancellation;
import dev.backstop.testing.Harness;
import dev.backstop.testing.InRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Why a group was cancelled, as Go's {@code context.Cause} says it: fail-fast (with the failure), timeout, the
 * handler's cancel (with its reason), an interrupt, the request's end, and close; a closed group is done.
 */
class CancellationCauseTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private InRequest requests;

    @BeforeEach
    void start() throws Exception {
        requests = harness.inRequest();
    }

    @Test
    void aFailFastGroupNamesTheFailureThatCancelledIt() throws Throwable {
        IOException failure = new IOException("inventory down");
        Cancellation cancellation = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).failFast().open()) {
                tasks.go("inventory", () -> {
                    throw failure;
                });
                tasks.go("price", () -> new CountDownLatch(1).await());
                catchChildTaskException(tasks::await);
                return tasks.cancellation().orElseThrow();
            }
        });
        assertThat(cancellation.reason()).isEqualTo(Cancellation.Reason.FAIL_FAST);
        assertThat(cancellation.cause()).isSameAs(failure);
    }

    @Test
    void aTimeoutIsATimeoutException() throws Throwable {
        Cancellation cancellation = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).name("quote").timeout(Duration.ofMillis(50)).open()) {
                tasks.go(() -> new CountDownLatch(1).await());
                catchChildTaskException(tasks::await);
                return tasks.cancellation().orElseThrow();
            }
        });
        assertThat(cancellation.reason()).isEqualTo(Cancellation.Reason.TIMEOUT);
        assertThat(cancellation.cause()).isInstanceOf(TimeoutException.class)
                .hasMessage("group 'quote' did not finish within PT0.05S");
    }

    @Test
    void theHandlersCancelCarriesItsReason() throws Throwable {
        Object[] seen = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.builder(request).name("search").open()) {
                tasks.go(() -> new CountDownLatch(1).await());
                boolean before = tasks.cancellation().isPresent();
                tasks.cancel("the user navigated away");
                tasks.cancel("a second reason is ignored");
                ChildTaskException thrown = catchChildTaskException(tasks::await);
                return new Object[] {before, tasks.cancellation().orElseThrow(), thrown};
            }
        });
        assertThat(seen[0]).isEqualTo(false);
        Cancellation cancellation = (Cancellation) seen[1];
        assertThat(cancellation.reason()).isEqualTo(Cancellation.Reason.CANCELLED);
        assertThat(cancellation.cause()).isInstanceOf(CancellationException.class)
                .hasMessage("group 'search' was cancelled: the user navigated away");
        assertThat((Throwable) seen[2]).hasMessageContaining("the user navigated away");
    }

    @Test
    void cancelWithoutAReasonSaysWhoCancelled() throws Throwable {
        Cancellation cancellation = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.cancel();
                return tasks.cancellation().orElseThrow();
            }
        });
        assertThat(cancellation.reason()).isEqualTo(Cancellation.Reason.CANCELLED);
        assertThat(cancellation.cause()).hasMessage("group 'tasks' was cancelled by cancel()");
    }

    @Test
    void anInterruptedAwaitIsAnInterruptedException() throws Throwable {
        Cancellation cancellation = requests.run(request -> {
            try (ChildTasks tasks = ChildTasks.open(request)) {
                tasks.go(() -> new CountDownLatch(1).await());
                Thread.currentThread().interrupt();
                catchChildTaskException(tasks::await);
                Thread.interrupted();
                return tasks.cancellation().orElseThrow();
            }
        });
        assertThat(cancellation.reason()).isEqualTo(Cancellation.Reason.INTERRUPTED);
        assertThat(cancellation.cause()).isInstanceOf(InterruptedException.class);
    }

    @Test
    void aGroupLeftOpenIsCancelledByTheRequestsEnd() throws Throwable {
        AtomicReference<ChildTasks> leaked = new AtomicReference<>();
        requests.run(request -> {
            ChildTasks tasks = ChildTasks.builder(request).name("forgotten").open();
            tasks.go(() -> new CountDownLatch(1).await());
            leaked.set(tasks);
            return null;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> leaked.get().isCancelled());
        Cancellation cancellation = leaked.get().cancellation().orElseThrow();
        assertThat(cancellation.reason()).isEqualTo(Cancellation.Reason.REQUEST_ENDED);
        assertThat(cancellation.cause()).isInstanceOf(CancellationException.class)
                .hasMessage("the request ended with group 'forgotten' still open");
    }

    @Test
    void aClosedGroupIsDoneLikeErrgroupsContextAfterWait() throws Throwable {
        Object[] seen = requests.run(request -> {
            ChildTasks tasks = ChildTasks.open(request);
            tasks.go(() -> {
            });
            tasks.await();
            boolean afterAwait = tasks.isCancelled();
            tasks.close();
            return new Object[] {afterAwait, tasks.isCancelled(), tasks.cancellation().orElseThrow()};
        });
        assertThat(seen[0]).as("still usable after await()").isEqualTo(false);
        assertThat(seen[1]).isEqualTo(true);
        Cancellation cancellation = (Cancellation) seen[2];
        assertThat(cancellation.reason()).isEqualTo(Cancellation.Reason.CLOSED);
        assertThat(cancellation.cause()).isInstanceOf(CancellationException.class)
                .hasMessage("group 'tasks' was closed");
    }

    @Test
    void theFirstReasonWinsOverTheClose() throws Throwable {
        Cancellation cancellation = requests.run(request -> {
            ChildTasks tasks = ChildTasks.builder(request).timeout(Duration.ofMillis(20)).open();
            try (tasks) {
                tasks.go(() -> new CountDownLatch(1).await());
                catchChildTaskException(tasks::await);
            }
            return tasks.cancellation().orElseThrow();
        });
        assertThat(cancellation.reason()).isEqualTo(Cancellation.Reason.TIMEOUT);
    }
}
