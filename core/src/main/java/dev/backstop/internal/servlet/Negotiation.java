package dev.backstop.internal.servlet;

import java.util.Locale;

/**
 * Chooses between {@code application/problem+json} and {@code text/plain} from an Accept header, by RFC 9110
 * rules: the most specific matching media range gives each type its quality; JSON wins ties, so {@code *}{@code /*}
 * (curl) and a missing header get JSON. Garbage in the header never throws; it just matches nothing. Stateless.
 */
public final class Negotiation {

    private static final int MAX_RANGES = 64;

    private Negotiation() {
    }

    /** @return true when the error body should be problem+json rather than text/plain */
    public static boolean prefersJson(String accept) {
        if (accept == null || accept.isBlank()) {
            return true;
        }
        // A range naming problem+json itself decides; otherwise plain JSON is just as good.
        Match problem = match(accept, "application", "problem+json");
        double json = problem.specificity() == EXACT ? problem.quality()
                : Math.max(problem.quality(), match(accept, "application", "json").quality());
        double text = match(accept, "text", "plain").quality();
        if (json <= 0 && text <= 0) {
            // Neither is acceptable; a 406 would hide the 500, so send the plainest form.
            return false;
        }
        return json >= text;
    }

    private static final int EXACT = 2;

    /** The most specific range matching a media type: 0 for {@code *}{@code /*}, 1 for {@code type/*}, 2 exact. */
    private record Match(int specificity, double quality) {
    }

    /** The most specific range matching {@code type/subtype} and its quality; quality 0 when none matches. */
    private static Match match(String accept, String type, String subtype) {
        int bestSpecificity = -1;
        double bestQuality = 0;
        int start = 0;
        for (int ranges = 0; start <= accept.length() && ranges < MAX_RANGES; ranges++) {
            int end = accept.indexOf(',', start);
            if (end < 0) {
                end = accept.length();
            }
            String range = accept.substring(start, end);
            start = end + 1;
            int semicolon = range.indexOf(';');
            String mediaRange = (semicolon < 0 ? range : range.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
            int slash = mediaRange.indexOf('/');
            if (slash <= 0) {
                continue;
            }
            String rangeType = mediaRange.substring(0, slash).trim();
            String rangeSubtype = mediaRange.substring(slash + 1).trim();
            int specificity;
            if (rangeType.equals("*") && rangeSubtype.equals("*")) {
                specificity = 0;
            } else if (rangeType.equals(type) && rangeSubtype.equals("*")) {
                specificity = 1;
            } else if (rangeType.equals(type) && rangeSubtype.equals(subtype)) {
                specificity = EXACT;
            } else {
                continue;
            }
            if (specificity > bestSpecificity) {
                bestSpecificity = specificity;
                bestQuality = semicolon < 0 ? 1.0 : qParameter(range.substring(semicolon + 1));
            }
        }
        return new Match(bestSpecificity, bestSpecificity < 0 ? 0 : bestQuality);
    }

    private static double qParameter(String parameters) {
        for (String parameter : parameters.split(";", 16)) {
            int equals = parameter.indexOf('=');
            if (equals > 0 && parameter.substring(0, equals).trim().equalsIgnoreCase("q")) {
                try {
                    double q = Double.parseDouble(parameter.substring(equals + 1).trim());
                    return q >= 0 && q <= 1 ? q : 0;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 1.0;
    }
}
