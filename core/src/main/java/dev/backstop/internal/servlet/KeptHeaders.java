package dev.backstop.internal.servlet;

import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The response headers that survive the reset before Backstop's 500 (init-param {@code keep-headers}): headers that
 * filters in front of the handler set for every response (a request id, CORS, security headers) belong on the error
 * response too, while what the handler set does not. Names are matched case-insensitively; a trailing {@code *}
 * matches a prefix. {@code Set-Cookie} never survives, listed or not: a half-done handler's cookie must not reach the
 * client. Immutable and thread-safe.
 */
public final class KeptHeaders {

    /** The default list: request ids, CORS, and the common security headers. */
    public static final String DEFAULT = "X-Request-Id, X-Correlation-Id, Access-Control-*, Vary, "
            + "Strict-Transport-Security, X-Content-Type-Options, Content-Security-Policy, X-Frame-Options";

    private static final String SET_COOKIE = "set-cookie";

    private final List<String> exact;
    private final List<String> prefixes;

    private KeptHeaders(List<String> exact, List<String> prefixes) {
        this.exact = exact;
        this.prefixes = prefixes;
    }

    /** @param names header names, each possibly ending in {@code *}; none keeps no header */
    public static KeptHeaders of(String... names) {
        List<String> exact = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        for (String name : names) {
            String trimmed = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
            if (trimmed.isEmpty()) {
                continue;
            }
            if (trimmed.indexOf(' ') >= 0 || trimmed.indexOf('*') >= 0 && trimmed.indexOf('*') != trimmed.length() - 1) {
                throw new IllegalArgumentException("a header name, or a prefix ending in '*', but was '" + name + "'");
            }
            if (trimmed.endsWith("*")) {
                prefixes.add(trimmed.substring(0, trimmed.length() - 1));
            } else {
                exact.add(trimmed);
            }
        }
        return new KeptHeaders(List.copyOf(exact), List.copyOf(prefixes));
    }

    /** @param list comma-separated names, as the init-param gives them */
    public static KeptHeaders parse(String list) {
        return of(list.split(","));
    }

    boolean keeps(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals(SET_COOKIE)) {
            return false;
        }
        if (exact.contains(lower)) {
            return true;
        }
        for (String prefix : prefixes) {
            if (lower.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Resets {@code response} (status, headers, buffered body), then sets the kept headers again.
     *
     * @throws IllegalStateException when the response is committed
     */
    void reset(HttpServletResponse response) {
        List<String[]> kept = null;
        if (!exact.isEmpty() || !prefixes.isEmpty()) {
            // Tomcat lists a name once per value: each name is read once, or its values would be kept once per listing.
            Set<String> seen = new HashSet<>();
            Collection<String> names = response.getHeaderNames();
            for (String name : names == null ? List.<String>of() : names) {
                if (name != null && keeps(name) && seen.add(name.toLowerCase(Locale.ROOT))) {
                    Collection<String> values = response.getHeaders(name);
                    for (String value : values == null ? List.<String>of() : values) {
                        if (kept == null) {
                            kept = new ArrayList<>();
                        }
                        kept.add(new String[] {name, value});
                    }
                }
            }
        }
        response.reset();
        if (kept != null) {
            for (String[] header : kept) {
                response.addHeader(header[0], header[1]);
            }
        }
    }
}
