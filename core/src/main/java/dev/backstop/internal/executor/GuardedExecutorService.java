package dev.backstop.internal.executor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An {@link ExecutorService} whose tasks report their failures through the pipeline
 * ({@code backstop.panics{source=executor}}): unchecked ones at once, whether or not anyone reads the future;
 * checked ones if their future is never read. Lifecycle calls ({@code shutdown}, {@code close}, ...) go to the
 * wrapped executor unchanged. Thread-safe as the wrapped executor is.
 */
public class GuardedExecutorService implements ExecutorService {

    final ExecutorService delegate;
    final ExecutorGuard guard;

    public GuardedExecutorService(ExecutorService delegate, ExecutorGuard guard) {
        this.delegate = delegate;
        this.guard = guard;
    }

    @Override
    public void execute(Runnable command) {
        delegate.execute(guard.execute(command));
    }

    @Override
    public Future<?> submit(Runnable task) {
        return delegate.submit(guard.submit(task));
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        return delegate.submit(guard.submit(task), result);
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        UnreadFailure unread = new UnreadFailure(guard);
        return new GuardedFuture<>(delegate.submit(guard.submit(task, unread)), unread);
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        List<UnreadFailure> unread = new ArrayList<>(tasks.size());
        List<Callable<T>> wrapped = wrap(tasks, unread);
        try {
            return watched(delegate.invokeAll(wrapped), unread);
        } catch (InterruptedException | RuntimeException | Error noFutures) {
            abandon(unread);
            throw noFutures;
        }
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        List<UnreadFailure> unread = new ArrayList<>(tasks.size());
        List<Callable<T>> wrapped = wrap(tasks, unread);
        try {
            return watched(delegate.invokeAll(wrapped, timeout, unit), unread);
        } catch (InterruptedException | RuntimeException | Error noFutures) {
            abandon(unread);
            throw noFutures;
        }
    }

    /** invokeAll threw: nobody will ever hold the futures, so every checked failure is unread, now or later. */
    private static void abandon(List<UnreadFailure> unread) {
        for (UnreadFailure watch : unread) {
            watch.run();
        }
    }

    /** The caller asked for any one result: the others' checked failures are the executor's to drop. */
    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        return delegate.invokeAny(wrap(tasks, null));
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        return delegate.invokeAny(wrap(tasks, null), timeout, unit);
    }

    private <T> List<Callable<T>> wrap(Collection<? extends Callable<T>> tasks, List<UnreadFailure> unread) {
        List<Callable<T>> wrapped = new ArrayList<>(tasks.size());
        for (Callable<T> task : tasks) {
            UnreadFailure watch = new UnreadFailure(guard);
            if (unread != null) {
                unread.add(watch);
            } else {
                watch.observed();
            }
            wrapped.add(guard.submit(task, watch));
        }
        return wrapped;
    }

    private static <T> List<Future<T>> watched(List<Future<T>> futures, List<UnreadFailure> unread) {
        List<Future<T>> out = new ArrayList<>(futures.size());
        for (int i = 0; i < futures.size(); i++) {
            out.add(new GuardedFuture<>(futures.get(i), unread.get(i)));
        }
        return out;
    }

    @Override
    public void shutdown() {
        delegate.shutdown();
    }

    /** Returns what the wrapped executor returns: its own wrappers of the tasks that never started. */
    @Override
    public List<Runnable> shutdownNow() {
        return delegate.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
        return delegate.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return delegate.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return delegate.awaitTermination(timeout, unit);
    }

    /**
     * Closes as the wrapped executor closes: its own {@code close()} on Java 19+ (which may differ, as the common
     * pool's does), else the JDK's definition: shut down, wait for termination, {@code shutdownNow} on interrupt.
     */
    public void close() {
        if (delegate instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("the wrapped executor failed to close", e);
            }
            return;
        }
        boolean terminated = delegate.isTerminated();
        if (terminated) {
            return;
        }
        delegate.shutdown();
        boolean interrupted = false;
        while (!terminated) {
            try {
                terminated = delegate.awaitTermination(Duration.ofDays(1).toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                if (!interrupted) {
                    delegate.shutdownNow();
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "Guarded[" + delegate + "]";
    }
}
