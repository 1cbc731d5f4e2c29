package dev.backstop.internal.pipeline;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * Error ids: 16 lower-case hex digits (64 bits from a {@link SecureRandom}), short enough to read over the phone,
 * unique enough that two failures in one log never share one, and not guessable from the ids a client has seen:
 * an error id is shown to clients, so it must not reveal how many failures happened or predict the next one.
 */
public final class ErrorIds {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    // A few generators, picked by thread, so that a failure storm on many threads does not queue on one lock.
    // SHA1PRNG instances (each seeded from the system's entropy on first use) lock only themselves; the platform
    // default on Linux (NativePRNG) shares one lock between all its instances.
    private static final SecureRandom[] RANDOMS = new SecureRandom[8];

    static {
        for (int i = 0; i < RANDOMS.length; i++) {
            RANDOMS[i] = generator();
        }
    }

    private static SecureRandom generator() {
        try {
            return SecureRandom.getInstance("SHA1PRNG");
        } catch (NoSuchAlgorithmException | RuntimeException unavailable) {
            return new SecureRandom();
        }
    }

    private ErrorIds() {
    }

    /** @return a new error id */
    public static String next() {
        long bits = RANDOMS[(int) (Thread.currentThread().getId() & (RANDOMS.length - 1))].nextLong();
        char[] out = new char[16];
        for (int i = 15; i >= 0; i--) {
            out[i] = HEX[(int) (bits & 0xf)];
            bits >>>= 4;
        }
        return new String(out);
    }
}
