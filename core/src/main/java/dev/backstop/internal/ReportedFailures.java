package dev.backstop.internal;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The throwables the pipeline already logged and counted away from the request thread (child and background
 * tasks), so that when one of them reaches the filter (through {@code await()}, or rethrown by hand, or as the
 * cause of the handler's own exception) it is answered with its original error id and not reported twice.
 *
 * <p>Keys are compared by identity and held weakly: a user's {@code equals}/{@code hashCode} is never called, and
 * a failure nobody holds any more is forgotten. Thread-safe.
 */
final class ReportedFailures {

    private static final Map<Key, Report> REPORTED = new ConcurrentHashMap<>();
    private static final ReferenceQueue<Throwable> COLLECTED = new ReferenceQueue<>();

    private ReportedFailures() {
    }

    static void remember(Throwable failure, Report report) {
        expunge();
        REPORTED.put(new Key(failure, COLLECTED), report);
    }

    /** @return the report of {@code failure} or of a throwable in its cause chain, or null */
    static Report find(Throwable failure) {
        if (REPORTED.isEmpty()) {
            return null;
        }
        Throwable current = failure;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            Report report = REPORTED.get(new Key(current, null));
            if (report != null) {
                return report;
            }
            current = Texts.cause(current);
        }
        return null;
    }

    private static void expunge() {
        for (Object gone = COLLECTED.poll(); gone != null; gone = COLLECTED.poll()) {
            REPORTED.remove(gone);
        }
    }

    private static final class Key extends WeakReference<Throwable> {

        private final int hash;

        Key(Throwable referent, ReferenceQueue<Throwable> queue) {
            super(referent, queue);
            this.hash = System.identityHashCode(referent);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object other) {
            if (this == other) {
                return true;
            }
            if (!(other instanceof Key key)) {
                return false;
            }
            Throwable mine = get();
            return mine != null && mine == key.get();
        }
    }
}
