package dev.backstop.internal.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The log-storm limiter. In an incident the same failure repeats thousands of times a second, and writing its stack
 * every time costs more than the failure. Failures are identical when they have the same source, exception class and
 * top {@value #FRAMES} stack frames: the same bug, wherever it is reached from. Not the request path: one handler on
 * {@code /orders/{id}} has as many paths as orders. The first of a kind is logged in full and opens a window of one
 * interval;
 * the identical failures inside that window are folded: each still gets a short line of its own (its error id,
 * where, what, and the error id whose line has the stack), and the window's summary line, written when it closes,
 * gives their count, the paths they came from and a sample of their ids. The next one after the window is logged in
 * full again. Every other line Backstop repeats (a leak report, an unobserved failure, an abandoned task, an internal
 * failure) is limited the same way, by its own key, except that its repeats get no line of their own: only the
 * summary, with their exact count.
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

    /** The category of panics; other lines name their own. */
    static final String PANIC = "panic";
    /** Distinct paths a summary names. */
    static final int SAMPLED_PATHS = 5;

    /** Writes the summary of one window: how many lines it folded, like which one, and where they came from. */
    @FunctionalInterface
    interface Summaries {
        void write(Summary summary);
    }

    /** What one closed window folded. Immutable. */
    record Summary(String category, int folded, String description, List<String> sampleIds, List<String> paths,
            int otherPaths, boolean atLeast, Duration interval) {
    }

    /** Distinct paths beyond the named ones that a window counts exactly; past that, "at least" this many. */
    static final int COUNTED_OTHER_PATHS = 256;

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
     * Decides whether a panic is logged in full now.
     *
     * @param path the request path it came from, for the summary; null when none
     * @param describe what a summary says about this kind of failure; asked only when a window opens
     * @return null to log it in full; else the error id of the panic whose line has the stack of its kind, in whose
     *     window this one was folded
     */
    String admit(Capture where, Throwable failure, String errorId, Describer describe) {
        if (intervalNanos <= 0) {
            return null;
        }
        Window folded = admit(Key.of(where, failure), errorId, where.path(), describe);
        return folded == null ? null : folded.firstId;
    }

    /**
     * Decides whether a repeated line of {@code category} (a leak report, say) is written now.
     *
     * @param identity what makes two such lines the same (the group's name and where it was opened, say)
     * @return true to write it, false when it was folded into the open window of its kind (counted for the summary)
     */
    boolean admitRepeat(String category, String identity, String path, Describer describe) {
        if (intervalNanos <= 0) {
            return true;
        }
        return admit(Key.of(category, identity), null, path, describe) == null;
    }

    /** @return the window {@code key}'s occurrence was folded into, or null when it is to be written in full */
    private Window admit(Key key, String errorId, String path, Describer describe) {
        long now = nanoTime.getAsLong();
        Window window = windows.get(key);
        if (window != null && folded(window, now, errorId, path)) {
            return window;
        }
        if (window == null && windows.size() >= MAX_KINDS) {
            purgeExpired(now);
            if (windows.size() >= MAX_KINDS) {
                return null; // too many kinds at once: write in full rather than forget one
            }
        }
        Window fresh = new Window(now + intervalNanos, key.category, describe.describe(), errorId);
        // A window removed meanwhile (by the summary thread) is replaced as if it had never been there.
        Window raced = window == null || !windows.replace(key, window, fresh) ? windows.putIfAbsent(key, fresh) : null;
        if (raced != null && folded(raced, now, errorId, path)) {
            return raced;
        }
        if (window != null) {
            window.close(summaries, intervalNanos); // the old window's folded lines, if not written yet
        }
        return null;
    }

    /** Folds into {@code window}; the first fold of a window makes sure the summary thread will write it. */
    private boolean folded(Window window, long now, String errorId, String path) {
        int folds = window.fold(now, errorId, path);
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
                entry.getValue().close(summaries, intervalNanos);
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
                window.close(summaries, intervalNanos);
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
                            window.close(summaries, intervalNanos);
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

        private final String category;
        private final Source source;
        private final String type;
        private final StackTraceElement[] top;
        private final int hash;

        private Key(String category, Source source, String type, StackTraceElement[] top) {
            this.category = category;
            this.source = source;
            this.type = type;
            this.top = top;
            this.hash = ((category.hashCode() * 31 + (source == null ? 0 : source.hashCode())) * 31
                    + type.hashCode()) * 31 + Arrays.hashCode(top);
        }

        static Key of(String category, String identity) {
            return new Key(category, null, identity, NO_FRAMES);
        }

        /**
         * A panic's kind: its source, class and top {@value #FRAMES} frames. Reading a thrown exception's frames
         * materialises all of them (the largest part of a folded panic's cost), but nothing cheaper tells two bugs
         * apart: the request path splits one handler's storm by the ids in its paths, the class alone merges every
         * {@code NullPointerException} of an application into one.
         */
        static Key of(Capture where, Throwable failure) {
            return of(where.source(), failure);
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
            return new Key(PANIC, source, failure.getClass().getName(), top);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && hash == key.hash && source == key.source
                    && category.equals(key.category) && type.equals(key.type) && Arrays.equals(top, key.top);
        }
    }

    /** One interval of one kind: the lines folded into it so far. */
    private static final class Window {
        final long end;
        final String category;
        final String description;
        /** The error id of the panic whose line opened the window, with its stack; null for other lines. */
        final String firstId;
        private int folded;
        private final List<String> sample = new ArrayList<>(SAMPLED_IDS);
        private final List<String> paths = new ArrayList<>(SAMPLED_PATHS);
        // Hashes of the paths beyond the named ones, to count them once each; bounded, as clients choose paths.
        private Set<Integer> otherPaths;
        private boolean otherPathsCapped;
        private boolean closed;

        Window(long end, String category, String description, String firstId) {
            this.end = end;
            this.category = category;
            this.description = description;
            this.firstId = firstId;
        }

        boolean expired(long now) {
            return now - end >= 0;
        }

        /** @return how many lines this window has folded with this one, or 0 when it could not take it */
        synchronized int fold(long now, String errorId, String path) {
            if (closed || expired(now)) {
                return 0;
            }
            folded++;
            if (errorId != null && sample.size() < SAMPLED_IDS) {
                sample.add(errorId);
            }
            if (path != null && !paths.contains(path)) {
                if (paths.size() < SAMPLED_PATHS) {
                    paths.add(path);
                } else {
                    if (otherPaths == null) {
                        otherPaths = new HashSet<>();
                    }
                    if (otherPaths.size() < COUNTED_OTHER_PATHS) {
                        otherPaths.add(path.hashCode());
                    } else if (!otherPaths.contains(path.hashCode())) {
                        otherPathsCapped = true;
                    }
                }
            }
            return folded;
        }

        synchronized boolean hasFolded() {
            return folded > 0 && !closed;
        }

        void close(Summaries summaries, long intervalNanos) {
            Summary summary;
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                if (folded == 0) {
                    return;
                }
                summary = new Summary(category, folded, description, List.copyOf(sample), List.copyOf(paths),
                        otherPaths == null ? 0 : otherPaths.size(), otherPathsCapped, Duration.ofNanos(intervalNanos));
            }
            try {
                summaries.write(summary);
            } catch (Throwable ignored) {
                // The writer reports its own failures; a summary is never worth a thrown exception.
            }
        }
    }
}
