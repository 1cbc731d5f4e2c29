package dev.backstop.internal.pipeline;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A stand-in for a throwable that a logging backend could not render (a {@code getMessage()} that throws, a cause
 * chain too deep for a recursive renderer): same class name in the message, same frames, a bounded acyclic cause
 * chain, nothing that calls user code. Used only on the fallback path.
 */
final class SafeThrowable extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private SafeThrowable(String message, SafeThrowable cause) {
        // The cause is given here, never through initCause(): this constructor fixes it, even when it is null.
        super(message, cause, false, true);
    }

    static SafeThrowable copyOf(Throwable original) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<String> messages = new ArrayList<>();
        List<StackTraceElement[]> stacks = new ArrayList<>();
        Throwable current = original;
        for (int depth = 0; current != null && depth < Texts.MAX_CAUSES; depth++) {
            if (!seen.add(current)) {
                messages.add("[circular reference: " + current.getClass().getName() + "]");
                stacks.add(new StackTraceElement[0]);
                break;
            }
            messages.add(Texts.escape(Texts.describe(current), Texts.MAX_TEXT));
            stacks.add(frames(current));
            current = Texts.cause(current);
        }
        // Built from the deepest cause up, each copy taking its cause in the constructor.
        SafeThrowable copy = null;
        for (int i = messages.size() - 1; i >= 0; i--) {
            copy = new SafeThrowable(messages.get(i), copy);
            copy.setStackTrace(stacks.get(i));
        }
        return copy;
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
