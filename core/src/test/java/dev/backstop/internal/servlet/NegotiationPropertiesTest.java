package dev.backstop.internal.servlet;

import static dev.backstop.testing.Property.forAll;
import static dev.backstop.testing.Property.show;
import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Property;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Properties of {@link Negotiation#prefersJson(String)} over thousands of seeded random Accept headers.
 *
 * <p>What it promises: no header makes it throw, and the answer depends on the header alone; a missing or blank
 * header gets JSON; otherwise each of problem+json, JSON and text/plain gets the quality of the most specific range
 * that matches it (RFC 9110: exact over {@code type/*} over {@code *}{@code /*}), a range naming problem+json
 * exactly decides for JSON, else plain JSON is as good; JSON wins ties, and when neither is acceptable the answer is
 * text. Headers of well-formed ranges are generated from a model and checked against that rule, in random order,
 * case, spacing and with extra parameters; garbage is only checked not to throw.
 */
class NegotiationPropertiesTest {

    private static final int TRIES = 10_000;

    /** Ranges whose quality decides the answer. */
    private static final String[] JSON_RANGES = {"application/json", "application/problem+json", "application/*",
        "*/*"};
    private static final String[] TEXT_RANGES = {"text/plain", "text/*"};
    /** Ranges that match neither problem+json, JSON nor text/plain. */
    private static final String[] NOISE_RANGES = {"text/html", "application/xml", "image/png", "image/*",
        "application/xhtml+xml", "text/csv", "application/problem+xml", "application/jsonx", "texts/plain"};

    /** One media range of a generated header; {@code q} null when the range carries no q parameter. */
    record Range(String type, String subtype, String q) {
        double quality() {
            return q == null ? 1.0 : Double.parseDouble(q);
        }

        boolean matches(String wantedType, String wantedSubtype) {
            return (type.equals("*") && subtype.equals("*"))
                    || (type.equals(wantedType) && (subtype.equals("*") || subtype.equals(wantedSubtype)));
        }

        int specificity() {
            return type.equals("*") ? 0 : subtype.equals("*") ? 1 : 2;
        }
    }

    /** A header and the ranges it was written from. */
    record Header(String text, List<Range> ranges) {
        @Override
        public String toString() {
            return show(text);
        }
    }

    private static Range range(String mediaRange, String q) {
        int slash = mediaRange.indexOf('/');
        return new Range(mediaRange.substring(0, slash), mediaRange.substring(slash + 1), q);
    }

    /** A q value as RFC 9110 writes it: 0 or 1 with up to three decimals, or none at all. */
    private static String q(SplittableRandom random) {
        return switch (random.nextInt(9)) {
            case 0 -> null;
            case 1 -> "0";
            case 2 -> "1";
            case 3 -> "1.000";
            case 4 -> "0.5";
            case 5 -> "0." + random.nextInt(10);
            default -> String.format(Locale.ROOT, "0.%03d", random.nextInt(1000));
        };
    }

    /** Writes ranges as a header, with random case, optional whitespace and extra parameters around q. */
    private static String write(List<Range> ranges, SplittableRandom random) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < ranges.size(); i++) {
            if (i > 0) {
                out.append(space(random)).append(',').append(space(random));
            }
            Range r = ranges.get(i);
            out.append(randomCase(r.type() + "/" + r.subtype(), random));
            if (random.nextInt(4) == 0) {
                out.append(space(random)).append(';').append(space(random)).append(random.nextBoolean()
                        ? "charset=utf-8" : "level=1");
            }
            if (r.q() != null) {
                out.append(space(random)).append(';').append(space(random))
                        .append(random.nextBoolean() ? 'q' : 'Q').append('=').append(r.q());
            }
            if (random.nextInt(6) == 0) {
                out.append(";ext=").append(random.nextInt(100));
            }
        }
        return out.toString();
    }

    private static String space(SplittableRandom random) {
        return switch (random.nextInt(6)) {
            case 0 -> " ";
            case 1 -> "\t";
            case 2 -> "  ";
            default -> "";
        };
    }

    private static String randomCase(String text, SplittableRandom random) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            out.append(random.nextInt(3) == 0 ? Character.toUpperCase(c) : c);
        }
        return out.toString();
    }

    /** 1 to 12 distinct ranges from every group, in random order. */
    private static Header modelHeader(SplittableRandom random) {
        List<String> pool = new ArrayList<>();
        Collections.addAll(pool, JSON_RANGES);
        Collections.addAll(pool, TEXT_RANGES);
        Collections.addAll(pool, NOISE_RANGES);
        shuffle(pool, random);
        int count = 1 + random.nextInt(12);
        List<Range> ranges = new ArrayList<>();
        for (String mediaRange : pool.subList(0, count)) {
            ranges.add(range(mediaRange, q(random)));
        }
        return new Header(write(ranges, random), ranges);
    }

    private static <T> void shuffle(List<T> list, SplittableRandom random) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, random.nextInt(i + 1));
        }
    }

    /** The quality the most specific matching range gives, and whether that range names the type exactly. */
    private static double[] quality(List<Range> ranges, String type, String subtype) {
        Range best = null;
        for (Range r : ranges) {
            if (r.matches(type, subtype) && (best == null || r.specificity() > best.specificity())) {
                best = r;
            }
        }
        return best == null ? new double[] {0, -1} : new double[] {best.quality(), best.specificity()};
    }

    /** The documented rule, on the ranges themselves rather than on the header text. */
    static boolean expected(List<Range> ranges) {
        double[] problem = quality(ranges, "application", "problem+json");
        double json = problem[1] == 2 ? problem[0]
                : Math.max(problem[0], quality(ranges, "application", "json")[0]);
        double text = quality(ranges, "text", "plain")[0];
        if (json <= 0 && text <= 0) {
            return false;
        }
        return json >= text;
    }

    @Test
    void agreesWithTheMostSpecificRangeRuleOnEveryWellFormedHeader() {
        forAll(0x5eed1001L, TRIES, NegotiationPropertiesTest::modelHeader, Header::toString,
                header -> assertThat(Negotiation.prefersJson(header.text())).isEqualTo(expected(header.ranges())));
    }

    @Test
    void jsonWinsATieWithText() {
        forAll(0x5eed1002L, TRIES, random -> {
            String q = random.nextInt(4) == 0 ? null : String.format(Locale.ROOT, "0.%03d", 1 + random.nextInt(999));
            List<Range> ranges = new ArrayList<>();
            ranges.add(range(JSON_RANGES[random.nextInt(JSON_RANGES.length)], q));
            ranges.add(range(TEXT_RANGES[random.nextInt(TEXT_RANGES.length)], q));
            for (int i = random.nextInt(4); i > 0; i--) {
                ranges.add(range(NOISE_RANGES[random.nextInt(NOISE_RANGES.length)], q(random)));
            }
            shuffle(ranges, random);
            return new Header(write(ranges, random), ranges);
        }, Header::toString, header -> assertThat(Negotiation.prefersJson(header.text())).isTrue());
    }

    @Test
    void theStrictlyHigherQualityWins() {
        forAll(0x5eed1003L, TRIES, random -> {
            int jsonQ = 1 + random.nextInt(1000);
            int textQ = 1 + random.nextInt(1000);
            while (textQ == jsonQ) {
                textQ = 1 + random.nextInt(1000);
            }
            List<Range> ranges = new ArrayList<>();
            ranges.add(range(JSON_RANGES[random.nextInt(JSON_RANGES.length)], thousandths(jsonQ)));
            ranges.add(range(TEXT_RANGES[random.nextInt(TEXT_RANGES.length)], thousandths(textQ)));
            for (int i = random.nextInt(4); i > 0; i--) {
                ranges.add(range(NOISE_RANGES[random.nextInt(NOISE_RANGES.length)], q(random)));
            }
            shuffle(ranges, random);
            return new Header(write(ranges, random), ranges);
        }, Header::toString, header -> {
            boolean jsonHigher = header.ranges().stream().filter(r -> !isText(r) && !isNoise(r))
                    .findFirst().orElseThrow().quality()
                    > header.ranges().stream().filter(NegotiationPropertiesTest::isText).findFirst().orElseThrow()
                            .quality();
            assertThat(Negotiation.prefersJson(header.text())).isEqualTo(jsonHigher);
        });
    }

    private static String thousandths(int q) {
        return q == 1000 ? "1" : String.format(Locale.ROOT, "0.%03d", q);
    }

    private static boolean isText(Range r) {
        return r.type().equals("text") && (r.subtype().equals("plain") || r.subtype().equals("*"));
    }

    private static boolean isNoise(Range r) {
        for (String noise : NOISE_RANGES) {
            if (noise.equals(r.type() + "/" + r.subtype())) {
                return true;
            }
        }
        return false;
    }

    @Test
    void onlyNoiseOrNothingAcceptableGivesText() {
        forAll(0x5eed1004L, TRIES, random -> {
            List<Range> ranges = new ArrayList<>();
            for (int i = 1 + random.nextInt(6); i > 0; i--) {
                ranges.add(range(NOISE_RANGES[random.nextInt(NOISE_RANGES.length)], q(random)));
            }
            if (random.nextBoolean()) {
                ranges.add(range(JSON_RANGES[random.nextInt(JSON_RANGES.length)], "0"));
                ranges.add(range(TEXT_RANGES[random.nextInt(TEXT_RANGES.length)], "0.000"));
            }
            shuffle(ranges, random);
            return new Header(write(ranges, random), ranges);
        }, Header::toString, header -> {
            // A JSON or text range at q=0 can still leave */* or application/* acceptable: only when nothing of the
            // three is acceptable must the answer be text.
            if (!expected(header.ranges())) {
                assertThat(Negotiation.prefersJson(header.text())).isFalse();
            }
        });
    }

    @Test
    void missingOrBlankHeaderGetsJson() {
        forAll(0x5eed1005L, 1_000, random -> {
            StringBuilder blank = new StringBuilder();
            for (int i = random.nextInt(5); i > 0; i--) {
                blank.append(random.nextBoolean() ? ' ' : '\t');
            }
            return blank.toString();
        }, Property::show, blank -> assertThat(Negotiation.prefersJson(blank)).isTrue());
        assertThat(Negotiation.prefersJson(null)).isTrue();
    }

    @Test
    void garbageNeverThrowsAndTheAnswerDependsOnTheHeaderAlone() {
        forAll(0x5eed1006L, TRIES, NegotiationPropertiesTest::garbage, Property::show, header -> {
            boolean first = Negotiation.prefersJson(header);
            assertThat(Negotiation.prefersJson(new String(header.toCharArray()))).isEqualTo(first);
        });
    }

    /** Header-ish noise: separators, broken q values, control chars, non-ASCII, sometimes very long. */
    private static String garbage(SplittableRandom random) {
        String[] pieces = {",", ";", "=", "/", "*", "q", "Q", "q=", ";q=", "\"", "\\", " ", "\t", "\r\n", "\u0000",
            "application", "json", "problem+json", "text", "plain", "*/*", "NaN", "Infinity", "-1", "1e400", "0x1p-3",
            "1.5", "-0", "0.", ".5", "\u00e9", "\ud83d\ude00", "\ud800", "//", ";;", ",,", "q=q=1", "=="};
        int length = random.nextInt(50) == 0 ? 2_000 + random.nextInt(3_000) : random.nextInt(40);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < length; i++) {
            out.append(pieces[random.nextInt(pieces.length)]);
        }
        return out.toString();
    }
}
