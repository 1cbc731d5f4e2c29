package dev.backstop.internal.servlet;

/** Minimal JSON string quoting (RFC 8259), enough for the problem body. Stateless. */
final class Json {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Json() {
    }

    static String quote(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2);
        quote(out, value);
        return out.toString();
    }

    /** Appends {@code value} as a JSON string; a value that needs no escaping (the usual one) is appended whole. */
    static StringBuilder quote(StringBuilder out, String value) {
        int first = 0;
        while (first < value.length() && plain(value.charAt(first))) {
            first++;
        }
        out.append('"');
        if (first == value.length()) {
            return out.append(value).append('"');
        }
        out.append(value, 0, first);
        for (int i = first; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c) && !validSurrogate(value, i)) {
                        out.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }

    /** @return whether {@code c} stands for itself in a JSON string (surrogates are checked in pairs, slowly) */
    private static boolean plain(char c) {
        return c >= 0x20 && c != '"' && c != '\\' && c < 0x2028 || c > 0x2029 && !Character.isSurrogate(c);
    }

    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
