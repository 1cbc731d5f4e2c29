package dev.backstop.testing;

import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A small seeded property runner: generates {@code tries} inputs from a fixed seed and checks each. A failure names
 * the seed, the try and the input, and {@link #replay} runs that one input again. No shrinking: generators keep
 * inputs small enough to read.
 *
 * <p>The seed is fixed so a build is repeatable; {@code -Dbackstop.property.seed=N} runs every property from another
 * seed, to look further.
 */
public final class Property {

    /** Checks one input; throws (an {@code AssertionError}, or anything) when the property does not hold. */
    @FunctionalInterface
    public interface Check<T> {
        void check(T input) throws Throwable;
    }

    private Property() {
    }

    /**
     * Runs {@code check} on {@code tries} inputs made by {@code generator}, each from its own random stream split
     * from {@code seed}.
     *
     * @param show renders an input for the failure message (escape control characters)
     */
    public static <T> void forAll(long seed, int tries, Function<SplittableRandom, T> generator,
            Function<T, String> show, Check<T> check) {
        long base = Long.getLong("backstop.property.seed", seed);
        SplittableRandom seeds = new SplittableRandom(base);
        for (int i = 0; i < tries; i++) {
            long trySeed = seeds.nextLong();
            T input = generator.apply(new SplittableRandom(trySeed));
            try {
                check.check(input);
            } catch (Throwable failed) {
                throw new AssertionError("property failed at try " + i + " of seed " + base + " (replay with seed "
                        + trySeed + "), input: " + show.apply(input) + "\n" + failed.getMessage(), failed);
            }
        }
    }

    /** Runs {@code check} on the one input that {@code trySeed}, as printed by a failure, generates. */
    public static <T> void replay(long trySeed, Function<SplittableRandom, T> generator, Check<T> check)
            throws Throwable {
        check.check(generator.apply(new SplittableRandom(trySeed)));
    }

    /** Java-escapes every char outside printable ASCII, for failure messages. */
    public static String show(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(text.length() + 16).append('"');
        for (int i = 0; i < text.length() && i < 2_000; i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                out.append(c);
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        if (text.length() > 2_000) {
            out.append("...(").append(text.length() - 2_000).append(" more chars)");
        }
        return out.append('"').append(" (length ").append(text.length()).append(')').toString();
    }
}
