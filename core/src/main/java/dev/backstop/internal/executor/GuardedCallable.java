package dev.backstop.internal.executor;

import dev.backstop.internal.pipeline.Capture;
import dev.backstop.internal.pipeline.Guard;
import dev.backstop.internal.pipeline.Kind;
import dev.backstop.internal.pipeline.Report;
import java.util.concurrent.Callable;

/**
 * A callable of a guarded executor: an unchecked failure is reported at once; a checked one is left to whoever reads
 * the future, and to {@link UnreadFailure} if nobody does. The future holds the failure either way.
 */
final class GuardedCallable<T> implements Callable<T>, Guard.Work {

    private final ExecutorGuard owner;
    private final Guard.Context context;
    private final Callable<T> task;
    private final UnreadFailure unread;
    private T value;

    GuardedCallable(ExecutorGuard owner, Guard.Context context, Callable<T> task, UnreadFailure unread) {
        this.owner = owner;
        this.context = context;
        this.task = task;
        this.unread = unread;
    }

    @Override
    public T call() {
        Report failed = owner.guard().run(context, this, true);
        if (failed == null) {
            T result = value;
            value = null;
            return result;
        }
        if (failed.kind() == Kind.INTERRUPTED) {
            unread.observed(); // cancelled or shut down: nothing to report, now or later
        } else if (!failed.kind().isPanic()) {
            unread.failed(failed.failure());
        }
        throw sneaky(failed.failure());
    }

    @Override
    public void runGuarded() throws Exception {
        value = task.call();
    }

    @Override
    public Capture where() {
        return Capture.EXECUTOR;
    }

    @Override
    public String toString() {
        return "Guarded[" + task + "]";
    }

    @SuppressWarnings("unchecked")
    static <E extends Throwable> RuntimeException sneaky(Throwable failure) throws E {
        throw (E) failure;
    }
}
