package dev.backstop.internal.executor;

import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ScheduledExecutorService} whose tasks report their failures like {@link GuardedExecutorService}'s. A
 * periodic task that throws is reported on every failing run; then it keeps its schedule, or, when so configured,
 * is cancelled as the JDK cancels it. Thread-safe as the wrapped executor is.
 */
public final class GuardedScheduledExecutorService extends GuardedExecutorService
        implements ScheduledExecutorService {

    private final ScheduledExecutorService scheduled;

    public GuardedScheduledExecutorService(ScheduledExecutorService delegate, ExecutorGuard guard) {
        super(delegate, guard);
        this.scheduled = delegate;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return scheduled.schedule(guard.submit(command), delay, unit);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        UnreadFailure unread = new UnreadFailure(guard);
        return new GuardedFuture.Scheduled<>(scheduled.schedule(guard.submit(callable, unread), delay, unit), unread);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return scheduled.scheduleAtFixedRate(guard.periodic(command), initialDelay, period, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return scheduled.scheduleWithFixedDelay(guard.periodic(command), initialDelay, delay, unit);
    }
}
