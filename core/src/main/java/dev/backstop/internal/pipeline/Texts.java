package dev.backstop.internal.pipeline;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Safe rendering of untrusted text (exception messages, paths) for log lines and response bodies.
 *
 * <p>Everything Backstop formats goes through here: user code may throw from {@code getMessage()} or
 * {@code toString()}, and attackers choose paths and messages, so nothing here throws and every control character
 * comes out escaped. Stateless and thread-safe.
 */
public final class Texts {

    /** Longest message or path, in chars, that Backstop copies into a log line or body. */
    public static final int MAX_TEXT = 1024;

    /** Deepest cause chain Backstop walks; cycles stop the walk earlier. */
    public static final int MAX_CAUSES = 64;

    private static final int MAX_FRAMES = 64;
    private static final int MAX_STACK_CHARS = 64 * 1024;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Texts() {
    }

    /**
     * Escapes CR, LF, TAB and every other ISO control character (and the Unicode line and paragraph separators)
     * as {@code \r}, {@code \n}, {@code \t} or {@code \}{@code uXXXX}, escapes backslash as {@code \\} so the
     * escaping cannot be forged, and the double quote as {@code \"} so a quoted field ({@code message="..."})
     * cannot be closed early; truncates to {@code max} chars (one less rather than split a surrogate pair) with a
     * marker that says how much was cut. A negative {@code max} counts as 0.
     */
    public static String escape(String raw, int max) {
        if (raw == null) {
            return "null";
        }
        int limit = Math.max(0, Math.min(raw.length(), max));
        if (limit > 0 && limit < raw.length() && Character.isHighSurrogate(raw.charAt(limit - 1))
                && Character.isLowSurrogate(raw.charAt(limit))) {
            limit--;
        }
        StringBuilder out = null;
        for (int i = 0; i < limit; i++) {
            char c = raw.charAt(i);
            if (needsEscape(c)) {
                if (out == null) {
                    out = new StringBuilder(limit + 16).append(raw, 0, i);
                }
                appendEscaped(out, c);
            } else if (out != null) {
                out.append(c);
            }
        }
        if (out == null && limit == raw.length()) {
            return raw;
        }
        if (out == null) {
            out = new StringBuilder(limit + 24).append(raw, 0, limit);
        }
        if (limit < raw.length()) {
            out.append("...(").append(raw.length() - limit).append(" more chars)");
        }
        return out.toString();
    }

    private static boolean needsEscape(char c) {
        return c < 0x20 || c == '\\' || c == '"' || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }

    private static void appendEscaped(StringBuilder out, char c) {
        switch (c) {
            case '\r' -> out.append("\\r");
            case '\n' -> out.append("\\n");
            case '\t' -> out.append("\\t");
            case '\\' -> out.append("\\\\");
            case '"' -> out.append("\\\"");
            default -> out.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                    .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
        }
    }

    /** {@code t.getMessage()}, or a placeholder when it throws. Not escaped. */
    public static String message(Throwable t) {
        try {
            return t.getMessage();
        } catch (Throwable broken) {
            return "<getMessage() threw " + broken.getClass().getName() + ">";
        }
    }

    /** The class name and message, like {@code Throwable.toString()} but never calling user code that may throw. */
    public static String describe(Throwable t) {
        String message = message(t);
        return message == null ? t.getClass().getName() : t.getClass().getName() + ": " + message;
    }

    /**
     * A bounded stack trace that survives cyclic cause chains, throwing {@code getMessage()} and null frames.
     * Used only where the user asked for stack traces in responses.
     */
    public static String stackTrace(Throwable t) {
        StringBuilder out = new StringBuilder(1024);
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Throwable current = t;
        for (int depth = 0; current != null && depth < MAX_CAUSES && out.length() < MAX_STACK_CHARS; depth++) {
            if (!seen.add(current)) {
                out.append("Caused by: [circular reference: ").append(current.getClass().getName()).append("]\n");
                break;
            }
            if (depth > 0) {
                out.append("Caused by: ");
            }
            out.append(describe(current)).append('\n');
            StackTraceElement[] frames = safeFrames(current);
            int shown = Math.min(frames.length, MAX_FRAMES);
            for (int i = 0; i < shown; i++) {
                out.append("\tat ").append(frames[i]).append('\n');
            }
            if (frames.length > shown) {
                out.append("\t... ").append(frames.length - shown).append(" more\n");
            }
            current = cause(current);
        }
        return out.length() > MAX_STACK_CHARS ? out.substring(0, MAX_STACK_CHARS) : out.toString();
    }

    private static StackTraceElement[] safeFrames(Throwable t) {
        try {
            StackTraceElement[] frames = t.getStackTrace();
            return frames == null ? new StackTraceElement[0] : frames;
        } catch (Throwable broken) {
            return new StackTraceElement[0];
        }
    }

    /** {@code t.getCause()}, or null when it throws. */
    public static Throwable cause(Throwable t) {
        try {
            Throwable cause = t.getCause();
            return cause == t ? null : cause;
        } catch (Throwable broken) {
            return null;
        }
    }
}
