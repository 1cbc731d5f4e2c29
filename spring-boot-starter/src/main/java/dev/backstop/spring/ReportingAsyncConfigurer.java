package dev.backstop.spring;

import dev.backstop.Backstop;
import java.util.concurrent.Executor;
import org.springframework.aop.interceptor.AsyncUncaughtExceptionHandler;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.scheduling.annotation.AsyncConfigurer;

/**
 * An {@link AsyncConfigurer} whose uncaught-exception handler reports a {@code void} {@code @Async} method's failure
 * ({@code source=executor}) and then hands it to the handler of the configurer it wraps, if that has one. Without
 * one, reporting is all: Spring's default handler would log the same stack a second time. The executor is the
 * wrapped configurer's, with the failure of a {@code CompletableFuture}-returning method reported too (see
 * {@link ReportingAsyncExecutor}). Thread-safe.
 */
final class ReportingAsyncConfigurer implements AsyncConfigurer {

    private final AsyncConfigurer delegate;
    private final ObjectProvider<Backstop> backstop;

    ReportingAsyncConfigurer(AsyncConfigurer delegate, ObjectProvider<Backstop> backstop) {
        this.delegate = delegate;
        this.backstop = backstop;
    }

    @Override
    public Executor getAsyncExecutor() {
        Executor executor = delegate.getAsyncExecutor();
        return executor instanceof AsyncTaskExecutor async ? new ReportingAsyncExecutor(async, backstop) : executor;
    }

    @Override
    public AsyncUncaughtExceptionHandler getAsyncUncaughtExceptionHandler() {
        AsyncUncaughtExceptionHandler original = delegate.getAsyncUncaughtExceptionHandler();
        return (failure, method, params) -> {
            backstop.getObject().report(failure);
            if (original != null) {
                original.handleUncaughtException(failure, method, params);
            }
        };
    }
}
