package dev.backstop.spring.app;

import dev.backstop.spring.app.TestApplication.AsyncCompletableFailure;
import dev.backstop.spring.app.TestApplication.AsyncFutureFailure;
import dev.backstop.spring.app.TestApplication.AsyncVoidFailure;
import dev.backstop.spring.app.TestApplication.ScheduledFailure;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/** Work outside any request: @Async methods and a @Scheduled job, on Boot's own executor and scheduler. */
@Component
public class Jobs {

    private final AtomicBoolean scheduledArmed = new AtomicBoolean();

    @Async
    public void failVoid() {
        throw new AsyncVoidFailure("the @Async void method failed on purpose");
    }

    @Async
    public Future<String> failFuture() {
        throw new AsyncFutureFailure("the @Async Future method failed on purpose");
    }

    @Async
    public CompletableFuture<String> failCompletable() {
        throw new AsyncCompletableFailure("the @Async CompletableFuture method failed on purpose");
    }

    /** Makes the next run of the scheduled job fail. */
    public void armScheduledFailure() {
        scheduledArmed.set(true);
    }

    @Scheduled(fixedDelay = 100)
    public void scheduled() {
        if (scheduledArmed.getAndSet(false)) {
            throw new ScheduledFailure("the @Scheduled job failed on purpose");
        }
    }
}
