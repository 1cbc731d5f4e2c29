package dev.backstop.spring;

import dev.backstop.Backstop;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.task.AsyncTaskExecutor;

/**
 * The {@code @Async} executor, with the failure of a {@code CompletableFuture}-returning method reported
 * ({@link Backstop#guard(java.util.concurrent.CompletionStage)}) as well as kept in the future its caller holds.
 * Spring runs such a method through {@code CompletableFuture.supplyAsync}, whose task is no {@code FutureTask}: a
 * {@code TaskDecorator} cannot see how it ended. Everything else is the wrapped executor's (and its decorator's).
 * Thread-safe as the wrapped executor is.
 */
final class ReportingAsyncExecutor implements AsyncTaskExecutor {

    private final AsyncTaskExecutor delegate;
    private final ObjectProvider<Backstop> backstop;

    ReportingAsyncExecutor(AsyncTaskExecutor delegate, ObjectProvider<Backstop> backstop) {
        this.delegate = delegate;
        this.backstop = backstop;
    }

    @Override
    public void execute(Runnable task) {
        delegate.execute(task);
    }

    @Override
    public Future<?> submit(Runnable task) {
        return delegate.submit(task);
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        return delegate.submit(task);
    }

    @Override
    public CompletableFuture<Void> submitCompletable(Runnable task) {
        return backstop.getObject().guard(delegate.submitCompletable(task));
    }

    @Override
    public <T> CompletableFuture<T> submitCompletable(Callable<T> task) {
        return backstop.getObject().guard(delegate.submitCompletable(task));
    }
}
