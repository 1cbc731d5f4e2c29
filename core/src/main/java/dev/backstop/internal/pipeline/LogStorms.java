package dev.backstop.internal.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The log-storm limiter. In an incident the same failure repeats thousands of times a second, and writing its stack
 * every time costs more than the failure. Failures are identical when they have the same source, exception class
 * and top {@value #FRAMES} stack frames. The first of a kind is logged in full and opens a window of one interval;
 * the identical failures inside that window are folded: counted, a few of their error ids kept, and written as one
 * summary line when the window closes. The next one after the window is logged in full again.
 *
 * <p>Summaries are written by a daemon thread that exists only while some window has folded lines, so an idle
 * application holds no thread of Backstop's. At most {@value #MAX_KINDS} kinds are tracked at once; beyond that,
 * failures are logged in full, never dropped. A kind is keyed by the exception's class name and frames (strings),
 * never by its {@code Class}, so tracking a kind keeps no class, and no class loader, reachable.
 *
 * <p>Windows are measured on a monotonic clock ({@code System::nanoTime} in production, so a wall clock stepped back
 * by NTP cannot stretch a window); tests give one they move instead of waiting for it. Thread-safe.
 */
final class LogStorms {

    /** Stack frames that, with the exception class and the source, tell two failures apart. */
    static final int FRAMES = 3;
    /** Most kinds of failure tracked at once. */
    static final int MAX_KINDS = 1000;
    /** Error ids of folded failures quoted in a summary. */
    static final int SAMPLED_IDS = 5;
    /** How long {@link #flush()} waits for the summary thread to finish a line it is writing. */
    private static final long FLUSH_WAIT_MILLIS = 1000;
    /** Longest the summary thread sleeps between looks at the clock, which tests may move. */
    private static final long MAX_PARK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private final Summaries summaries;
    private final Map<Key, Window> windows = new ConcurrentHashMap<>();
    private final AtomicBoolean flusherRunning = new AtomicBoolean();
    private volatile Thread flusher;

    /** Writes the summary of one window: how many failures it folded, like which one, and a sample of their ids. */
    @FunctionalInterface
    interface Summaries {
        void write(int folded, String description, List<String> sampleIds);
    }

    /**
     * @param interval the window, or zero to log every failure in full
     * @param nanoTime the monotonic clock that measures the windows, in nanoseconds
     * @param summaries writes one summary; called on the summary thread, on the thread whose failure closes a
     *     window, or on the caller of {@link #flush()}
     */
    LogStorms(Duration interval, LongSupplier nanoTime, Summaries summaries) {
        this.intervalNanos = interval.toNanos();
        this.nanoTime = nanoTime;
        this.summaries = summaries;
    }

    boolean enabled() {
        return intervalNanos > 0;
    }

    /**
     * Decides whether a failure is logged in full now.
     *
     * @param describe what a summary says about this kind of failure; asked only when a window opens
     * @return true to log it in full, false when it was folded into the open window of its kind
     */
    boolean admit(Source source, Throwable failure, String errorId, Describer describe) {
        if (intervalNanos <= 0) {
            return true;
        }
        Key key = Key.of(source, failure);
        long now = nanoTime.getAsLong();
        Window window = windows.get(key);
        if (window != null && folded(window, now, errorId)) {
            return false;
        }
        if (window == null && windows.size() >= MAX_KINDS) {
            purgeExpired(now);
            if (windows.size() >= MAX_KINDS) {
                return true; // too many kinds at once: log in full rather than forget one
            }
        }
        Window fresh = new Window(now + intervalNanos, describe.describe());
        // A window removed meanwhile (by the summary thread) is replaced as if it had never been there.
        Window raced = window == null || !windows.replace(key, window, fresh) ? windows.putIfAbsent(key, fresh) : null;
        if (raced != null && folded(raced, now, errorId)) {
            return false;
        }
        if (window != null) {
            window.close(summaries); // the old window's folded lines, if the summary thread has not written them
        }
        return true;
    }

    /** Folds into {@code window}; the first fold of a window makes sure the summary thread will write it. */
    private boolean folded(Window window, long now, String errorId) {
        int folds = window.fold(now, errorId);
        if (folds == 1) {
            startFlusher();
            Thread current = flusher;
            if (current != null) {
                LockSupport.unpark(current); // it may be parked until a later window's end
            }
        }
        return folds > 0;
    }

    /**
     * Writes every pending summary now, and lets the summary thread end; for shutdown. Waits briefly for a summary
     * the summary thread is writing at this moment.
     */
    void flush() {
        for (Map.Entry<Key, Window> entry : windows.entrySet()) {
            if (windows.remove(entry.getKey(), entry.getValue())) {
                entry.getValue().close(summaries);
            }
        }
        Thread current = flusher;
        if (current != null && current != Thread.currentThread()) {
            LockSupport.unpark(current);
            try {
                current.join(FLUSH_WAIT_MILLIS);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void purgeExpired(long now) {
        for (Map.Entry<Key, Window> entry : windows.entrySet()) {
            Window window = entry.getValue();
            if (window.expired(now) && windows.remove(entry.getKey(), window)) {
                window.close(summaries);
            }
        }
    }

    private void startFlusher() {
        if (flusherRunning.get() || !flusherRunning.compareAndSet(false, true)) {
            return;
        }
        try {
            Thread thread = Threads.daemon("backstop-log-summary", this::flushUntilQuiet);
            flusher = thread;
            thread.start();
        } catch (Throwable cannotStart) {
            // No thread: summaries are written when the next failure of each kind arrives, or at flush().
            flusherRunning.set(false);
        }
    }

    /** The summary thread: closes windows as they end, and ends itself once no window has folded lines. */
    private void flushUntilQuiet() {
        try {
            while (true) {
                long now = nanoTime.getAsLong();
                long next = Long.MAX_VALUE;
                boolean folding = false;
                for (Map.Entry<Key, Window> entry : windows.entrySet()) {
                    Window window = entry.getValue();
                    if (window.expired(now)) {
                        if (windows.remove(entry.getKey(), window)) {
                            window.close(summaries);
                        }
                    } else if (window.hasFolded()) {
                        folding = true;
                        next = Math.min(next, window.end);
                    }
                }
                if (!folding) {
                    flusher = null;
                    flusherRunning.set(false);
                    if (!anyFolded() || !flusherRunning.compareAndSet(false, true)) {
                        return;
                    }
                    flusher = Thread.currentThread();
                    continue; // a fold arrived as we stopped: stay
                }
                LockSupport.parkNanos(this, Math.max(Math.min(next - now, MAX_PARK_NANOS), 1_000_000L));
            }
        } catch (Throwable unexpected) {
            flusher = null;
            flusherRunning.set(false);
        }
    }

    private boolean anyFolded() {
        for (Window window : windows.values()) {
            if (window.hasFolded()) {
                return true;
            }
        }
        return false;
    }

    /** What a summary line says about a kind of failure. */
    @FunctionalInterface
    interface Describer {
        String describe();
    }

    /**
     * One kind of failure: source, exception class name, top frames. Strings only (a frame holds its class's name,
     * not the class), so that a tracked kind pins no class loader; a plain class, not a record, for the same reason.
     */
    private static final class Key {
        private static final StackTraceElement[] NO_FRAMES = new StackTraceElement[0];

        private final Source source;
        private final String type;
        private final StackTraceElement[] top;
        private final int hash;

        private Key(Source source, String type, StackTraceElement[] top) {
            this.source = source;
            this.type = type;
            this.top = top;
            this.hash = (source.hashCode() * 31 + type.hashCode()) * 31 + Arrays.hashCode(top);
        }

        static Key of(Source source, Throwable failure) {
            StackTraceElement[] stack;
            try {
                stack = failure.getStackTrace();
            } catch (RuntimeException unreadable) {
                stack = null;
            }
            StackTraceElement[] top = stack == null ? NO_FRAMES : Arrays.copyOf(stack, Math.min(FRAMES, stack.length));
            for (StackTraceElement frame : top) {
                if (frame == null) {
                    top = NO_FRAMES;
                    break;
                }
            }
            return new Key(source, failure.getClass().getName(), top);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && hash == key.hash && source == key.source && type.equals(key.type)
                    && Arrays.equals(top, key.top);
        }
    }

    /** One interval of one kind: the failures folded into it so far. */
    private static final class Window {
        final long end;
        final String description;
        private int folded;
        private final List<String> sample = new ArrayList<>(SAMPLED_IDS);
        private boolean closed;

        Window(long end, String description) {
            this.end = end;
            this.description = description;
        }

        boolean expired(long now) {
            return now - end >= 0;
        }

        /** @return how many failures this window has folded with this one, or 0 when it could not take it */
        synchronized int fold(long now, String errorId) {
            if (closed || expired(now)) {
                return 0;
            }
            folded++;
            if (sample.size() < SAMPLED_IDS) {
                sample.add(errorId);
            }
            return folded;
        }

        synchronized boolean hasFolded() {
            return folded > 0 && !closed;
        }

        void close(Summaries summaries) {
            int count;
            List<String> ids;
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                count = folded;
                ids = List.copyOf(sample);
            }
            if (count > 0) {
                try {
                    summaries.write(count, description, ids);
                } catch (Throwable ignored) {
                    // The writer reports its own failures; a summary is never worth a thrown exception.
                }
            }
        }
    }
}
