package dev.backstop.testing;

import dev.backstop.ChildTasks;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** Task bodies that block, for tests of cancellation: no sleeps, only latches and interrupts. */
public final class Blocking {

    private Blocking() {
    }

    /**
     * A task that counts down {@code started}, then blocks until interrupted; it records the interrupt in
     * {@code interrupted} and ends with the {@code InterruptedException}, as well-behaved code does.
     */
    public static ChildTasks.Task untilInterrupted(CountDownLatch started, AtomicBoolean interrupted) {
        return () -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.set(true);
                throw e;
            }
        };
    }

    /** Blocks until {@code release}, ignoring interrupts (and keeping the flag): the stubborn task. */
    public static void ignoringInterrupts(CountDownLatch release) {
        boolean interrupted = false;
        while (true) {
            try {
                release.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
