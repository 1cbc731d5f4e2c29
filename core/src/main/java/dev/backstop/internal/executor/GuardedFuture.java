package dev.backstop.internal.executor;

import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The future a guarded executor returns for a callable: the executor's own future, plus the note that its failure
 * was read. A checked failure nobody read is reported when this object becomes unreachable. Thread-safe.
 */
class GuardedFuture<T> implements Future<T> {

    final Future<T> delegate;
    private final UnreadFailure unread;

    GuardedFuture(Future<T> delegate, UnreadFailure unread) {
        this.delegate = delegate;
        this.unread = unread;
        unread.watch(this);
    }

    @Override
    public T get() throws InterruptedException, ExecutionException {
        try {
            return delegate.get();
        } catch (ExecutionException failed) {
            unread.observed();
            throw failed;
        }
    }

    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        try {
            return delegate.get(timeout, unit);
        } catch (ExecutionException failed) {
            unread.observed();
            throw failed;
        }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        return delegate.cancel(mayInterruptIfRunning);
    }

    @Override
    public boolean isCancelled() {
        return delegate.isCancelled();
    }

    @Override
    public boolean isDone() {
        return delegate.isDone();
    }

    @Override
    public String toString() {
        return "Guarded" + delegate;
    }

    /** The same, for {@code ScheduledExecutorService.schedule(Callable, ...)}. */
    static final class Scheduled<T> extends GuardedFuture<T> implements ScheduledFuture<T> {

        Scheduled(ScheduledFuture<T> delegate, UnreadFailure unread) {
            super(delegate, unread);
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return ((ScheduledFuture<T>) delegate).getDelay(unit);
        }

        @Override
        public int compareTo(Delayed other) {
            return ((ScheduledFuture<T>) delegate).compareTo(other instanceof Scheduled<?> guarded
                    ? (ScheduledFuture<?>) guarded.delegate : other);
        }
    }
}
