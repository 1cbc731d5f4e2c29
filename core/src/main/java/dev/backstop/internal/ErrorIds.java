package dev.backstop.internal;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Error ids: 16 lower-case hex digits (64 random bits), short enough to read over the phone, unique enough that
 * two failures in one log never share one. Not secret and not guessable-proof; they only correlate.
 */
public final class ErrorIds {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private ErrorIds() {
    }

    /** @return a new error id */
    public static String next() {
        long bits = ThreadLocalRandom.current().nextLong();
        char[] out = new char[16];
        for (int i = 15; i >= 0; i--) {
            out[i] = HEX[(int) (bits & 0xf)];
            bits >>>= 4;
        }
        return new String(out);
    }
}
