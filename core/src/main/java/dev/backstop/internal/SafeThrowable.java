package dev.backstop.internal;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A stand-in for a throwable that a logging backend could not render (a {@code getMessage()} that throws, a cause
 * chain too deep for a recursive renderer): same class name in the message, same frames, a bounded acyclic cause
 * chain, nothing that calls user code. Used only on the fallback path.
 */
final class SafeThrowable extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private SafeThrowable(String message) {
        super(message, null, false, true);
    }

    static SafeThrowable copyOf(Throwable original) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        SafeThrowable head = null;
        SafeThrowable tail = null;
        Throwable current = original;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            boolean cycle = !seen.add(current);
            SafeThrowable copy = new SafeThrowable(cycle
                    ? "[circular reference: " + current.getClass().getName() + "]"
                    : Texts.escape(Texts.describe(current), Texts.MAX_TEXT));
            if (!cycle) {
                copy.setStackTrace(frames(current));
            }
            if (head == null) {
                head = copy;
            } else {
                tail.initCause(copy);
            }
            tail = copy;
            if (cycle) {
                break;
            }
            current = Texts.cause(current);
        }
        return head;
    }

    private static StackTraceElement[] frames(Throwable t) {
        try {
            StackTraceElement[] frames = t.getStackTrace();
            if (frames == null) {
                return new StackTraceElement[0];
            }
            for (StackTraceElement frame : frames) {
                if (frame == null) {
                    return new StackTraceElement[0];
                }
            }
            return frames;
        } catch (Throwable broken) {
            return new StackTraceElement[0];
        }
    }

    @Override
    public String toString() {
        // The message already starts with the original class name; don't prefix ours.
        return getMessage();
    }
}
