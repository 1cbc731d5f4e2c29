package dev.backstop.internal.pipeline;

import static dev.backstop.testing.Property.forAll;
import static dev.backstop.testing.Property.show;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Properties of {@link Texts#escape(String, int)}, the one escaper for everything Backstop formats into a log line,
 * over thousands of seeded random strings rich in what attackers use: control characters, backslashes, quotes, fake
 * escape sequences, line separators and surrogates.
 *
 * <p>What it promises, and so what is checked: the output never throws and is never null; it holds no raw control
 * character (C0, DEL, C1), no U+2028/U+2029 and no raw quote, the field delimiter of {@code message="..."}; every
 * backslash in it starts one of the escapes {@code \r \n \t \\ \" \}{@code uXXXX}, so it decodes unambiguously
 * back to the input, or, past the limit, to the input's first {@code max} chars followed by {@code ...(N more
 * chars)}; it is at most 6 chars per input char kept (an escape is 2 or 6 chars) plus that marker; and it never
 * splits a surrogate pair.
 */
class TextsPropertiesTest {

    private static final int TRIES = 10_000;
    private static final Pattern MARKER = Pattern.compile("(?s)(.*)\\.\\.\\.\\((\\d+) more chars\\)");

    /** One call: the raw text and the limit. */
    record Input(String raw, int max) {
        String shown() {
            return show(raw) + ", max " + max;
        }
    }

    private static Input input(SplittableRandom random) {
        String raw = hostileText(random);
        int max = switch (random.nextInt(8)) {
            case 0 -> random.nextInt(4);
            case 1 -> raw.length();
            case 2 -> Math.max(0, raw.length() - 1 - random.nextInt(3));
            case 3 -> raw.length() + 1;
            case 4 -> Texts.MAX_TEXT;
            default -> random.nextInt(raw.length() + 8);
        };
        return new Input(raw, max);
    }

    /** Mostly short strings, sometimes long ones; each char drawn from classes that matter to the escaper. */
    static String hostileText(SplittableRandom random) {
        int length = switch (random.nextInt(20)) {
            case 0 -> 1_000 + random.nextInt(2_000);
            case 1, 2, 3, 4 -> random.nextInt(300);
            default -> random.nextInt(40);
        };
        StringBuilder out = new StringBuilder(length + 2);
        while (out.length() < length) {
            int kind = random.nextInt(100);
            if (kind < 25) {
                out.append((char) random.nextInt(0x20));                        // C0: CR, LF, TAB, ESC, NUL...
            } else if (kind < 30) {
                out.append((char) (0x7f + random.nextInt(0x21)));              // DEL and C1
            } else if (kind < 38) {
                out.append('\\');
            } else if (kind < 46) {
                out.append('"');
            } else if (kind < 52) {
                out.append("u0123456789abcdefrnt".charAt(random.nextInt(20))); // parts of fake escapes
            } else if (kind < 56) {
                out.append(random.nextBoolean() ? '\u2028' : '\u2029');
            } else if (kind < 61) {
                out.appendCodePoint(0x1f300 + random.nextInt(0x300));          // a surrogate pair (emoji)
            } else if (kind < 63) {
                out.append((char) (0xd800 + random.nextInt(0x800)));           // a lone surrogate
            } else if (kind < 88) {
                out.append((char) (0x20 + random.nextInt(0x5f)));              // printable ASCII
            } else {
                char c = (char) (0xa0 + random.nextInt(0xd800 - 0xa0));       // other BMP text
                out.append(c);
            }
        }
        return out.toString();
    }

    /** What must never appear raw in a formatted log field. */
    private static boolean mustBeEscaped(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029' || c == '"';
    }

    /**
     * Decodes an escaped field, failing on anything the escaper must not produce: a raw char that must be escaped,
     * or a backslash that does not start a known escape.
     */
    static String decode(String escaped) {
        StringBuilder out = new StringBuilder(escaped.length());
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c != '\\') {
                if (mustBeEscaped(c)) {
                    throw new AssertionError("raw U+" + String.format("%04X", (int) c) + " at " + i);
                }
                out.append(c);
                continue;
            }
            if (i + 1 >= escaped.length()) {
                throw new AssertionError("a lone backslash at the end");
            }
            char next = escaped.charAt(++i);
            switch (next) {
                case 'r' -> out.append('\r');
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case '\\' -> out.append('\\');
                case '"' -> out.append('"');
                case 'u' -> {
                    if (i + 4 >= escaped.length()) {
                        throw new AssertionError("a cut \\u escape at " + i);
                    }
                    String hex = escaped.substring(i + 1, i + 5);
                    if (!hex.matches("[0-9a-f]{4}")) {
                        throw new AssertionError("a bad \\u escape: " + hex);
                    }
                    out.append((char) Integer.parseInt(hex, 16));
                    i += 4;
                }
                default -> throw new AssertionError("a backslash before '" + next + "' at " + (i - 1));
            }
        }
        return out.toString();
    }

    private static String escape(Input input) {
        return Texts.escape(input.raw(), input.max());
    }

    @Test
    void neverThrowsAndNeverReturnsNullOrEmptyForAnyTextAndLimit() {
        forAll(0x5eed0001L, TRIES, random -> new Input(random.nextInt(50) == 0 ? null : hostileText(random),
                random.nextInt(20) == 0 ? -1 - random.nextInt(5) : random.nextInt(2_000)), Input::shown, input -> {
                    String escaped = Texts.escape(input.raw(), input.max());
                    assertThat(escaped).isNotNull();
                    if (input.raw() == null) {
                        assertThat(escaped).isEqualTo("null");
                    } else if (!input.raw().isEmpty()) {
                        assertThat(escaped).as("non-empty input, non-empty output").isNotEmpty();
                    }
                });
    }

    @Test
    void outputHasNoRawControlCharacterNoRawQuoteAndOnlyKnownEscapes() {
        forAll(0x5eed0002L, TRIES, TextsPropertiesTest::input, Input::shown, input -> {
            String escaped = escape(input);
            Matcher marker = MARKER.matcher(escaped);
            String field = input.raw().length() > input.max() && marker.matches() ? marker.group(1) : escaped;
            decode(field); // throws on a raw control char, a raw quote or an unknown escape
        });
    }

    @Test
    void withinTheLimitTheOutputDecodesBackToTheInput() {
        forAll(0x5eed0003L, TRIES, random -> {
            String raw = hostileText(random);
            return new Input(raw, raw.length() + random.nextInt(3));
        }, Input::shown, input -> {
            String escaped = escape(input);
            assertThat(decode(escaped)).isEqualTo(input.raw());
            if (input.raw().chars().noneMatch(c -> mustBeEscaped((char) c) || c == '\\')) {
                assertThat(escaped).as("nothing to escape: returned as is").isSameAs(input.raw());
            }
        });
    }

    @Test
    void pastTheLimitTheOutputIsThePrefixAndSaysHowMuchWasCut() {
        forAll(0x5eed0004L, TRIES, random -> {
            String raw = hostileText(random);
            while (raw.isEmpty()) {
                raw = hostileText(random);
            }
            return new Input(raw, random.nextInt(raw.length()));
        }, Input::shown, input -> {
            String raw = input.raw();
            Matcher marker = MARKER.matcher(escape(input));
            assertThat(marker.matches()).as("ends with the truncation marker").isTrue();
            int cut = Integer.parseInt(marker.group(2));
            int kept = raw.length() - cut;
            boolean pairAtTheLimit = input.max() > 0 && Character.isHighSurrogate(raw.charAt(input.max() - 1))
                    && Character.isLowSurrogate(raw.charAt(input.max()));
            assertThat(kept).as("chars kept").isEqualTo(pairAtTheLimit ? input.max() - 1 : input.max());
            assertThat(decode(marker.group(1))).isEqualTo(raw.substring(0, kept));
        });
    }

    @Test
    void lengthIsBoundedBySixCharsPerKeptCharPlusTheMarker() {
        forAll(0x5eed0005L, TRIES, TextsPropertiesTest::input, Input::shown, input -> {
            int kept = Math.min(input.raw().length(), input.max());
            int cut = input.raw().length() - kept;
            int markerBound = cut == 0 ? 0 : ("...( more chars)".length() + String.valueOf(cut + 1).length());
            assertThat(escape(input).length()).isLessThanOrEqualTo(6 * kept + markerBound);
        });
    }

    @Test
    void differentControlCharacterStringsNeverCollapseIntoOneOutput() {
        forAll(0x5eed0006L, TRIES, random -> {
            StringBuilder a = new StringBuilder();
            StringBuilder b = new StringBuilder();
            int length = 1 + random.nextInt(12);
            for (int i = 0; i < length; i++) {
                a.append(controlOrEscapeChar(random));
                b.append(controlOrEscapeChar(random));
            }
            return new String[] {a.toString(), b.toString()};
        }, pair -> show(pair[0]) + " and " + show(pair[1]), pair -> {
            String a = Texts.escape(pair[0], Texts.MAX_TEXT);
            String b = Texts.escape(pair[1], Texts.MAX_TEXT);
            assertThat(a).isNotEmpty();
            assertThat(a.equals(b)).as("%s vs %s", a, b).isEqualTo(pair[0].equals(pair[1]));
        });
    }

    private static char controlOrEscapeChar(SplittableRandom random) {
        return switch (random.nextInt(6)) {
            case 0 -> '\\';
            case 1 -> '"';
            case 2 -> "urnt0".charAt(random.nextInt(5));
            case 3 -> (char) (0x7f + random.nextInt(0x21));
            default -> (char) random.nextInt(0x20);
        };
    }

    @Test
    void wellFormedInputGivesWellFormedOutputEvenWhenCut() {
        forAll(0x5eed0007L, TRIES, random -> {
            String raw = hostileText(random).codePoints().filter(cp -> cp < 0xd800 || cp > 0xdfff)
                    .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
            StringBuilder withPairs = new StringBuilder();
            raw.codePoints().forEach(cp -> {
                withPairs.appendCodePoint(cp);
                if (random.nextInt(4) == 0) {
                    withPairs.appendCodePoint(0x1f600 + random.nextInt(0x50));
                }
            });
            String text = withPairs.toString();
            return new Input(text, random.nextInt(text.length() + 2));
        }, Input::shown, input -> assertThat(hasLoneSurrogate(escape(input))).isFalse());
    }

    private static boolean hasLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
                    return true;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
