package dev.backstop.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The log catalogue of the docs ({@code docs/log-catalogue.md}) as data: for each {@code event}, its level, the
 * shape its text starts with and the key-value pairs it must carry. {@link Harness} checks every line a test makes
 * Backstop write against it.
 */
public final class LogCatalogue {

    /** One row. */
    public record Entry(String event, Level level, Pattern start, List<String> keys) {
    }

    public static final Path FILE = Path.of("..", "docs", "log-catalogue.md");

    private static final Pattern CODE = Pattern.compile("`([^`]*)`");
    private static final Pattern PLACEHOLDER = Pattern.compile("<[^>]*>|\\[where]");

    private static volatile Map<String, Entry> entries;

    private LogCatalogue() {
    }

    /** The rows, by event. */
    public static Map<String, Entry> entries() {
        Map<String, Entry> current = entries;
        if (current == null) {
            current = parse();
            entries = current;
        }
        return current;
    }

    private static Map<String, Entry> parse() {
        List<String> lines;
        try {
            lines = Files.readAllLines(FILE, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Entry> parsed = new LinkedHashMap<>();
        for (String line : lines) {
            if (!line.startsWith("| `")) {
                continue;
            }
            String[] cells = line.split(" \\| ");
            String event = code(cells[0]).get(0);
            Level level = Level.toLevel(cells[1].trim(), null);
            String shape = code(cells[2]).get(0);
            List<String> keys = code(cells[3]);
            parsed.put(event, new Entry(event, level, shapeToPattern(shape), keys));
        }
        return parsed;
    }

    private static List<String> code(String cell) {
        List<String> found = new ArrayList<>();
        Matcher matcher = CODE.matcher(cell);
        while (matcher.find()) {
            found.add(matcher.group(1));
        }
        return found;
    }

    /** {@code <placeholder>} and {@code [where]} match anything; the rest is literal. */
    static Pattern shapeToPattern(String shape) {
        StringBuilder regex = new StringBuilder("^");
        Matcher matcher = PLACEHOLDER.matcher(shape);
        int at = 0;
        while (matcher.find()) {
            regex.append(Pattern.quote(shape.substring(at, matcher.start()))).append(".*?");
            at = matcher.end();
        }
        regex.append(Pattern.quote(shape.substring(at)));
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    /** @return what is wrong with {@code event} against the catalogue, or null when it matches its row */
    public static String check(ILoggingEvent event) {
        Map<String, Object> pairs = new LinkedHashMap<>();
        if (event.getKeyValuePairs() != null) {
            event.getKeyValuePairs().forEach(pair -> pairs.put(pair.key, pair.value));
        }
        Object name = pairs.get("event");
        Entry entry = name == null ? null : entries().get(name.toString());
        String line = event.getFormattedMessage();
        if (entry == null) {
            return "no catalogue row for event=" + name + ": " + line;
        }
        if (entry.level() != event.getLevel()) {
            return "event=" + name + " is " + entry.level() + " in the catalogue, logged at " + event.getLevel() + ": "
                    + line;
        }
        if (!entry.start().matcher(line).lookingAt()) {
            return "event=" + name + " does not start as the catalogue says (" + entry.start() + "): " + line;
        }
        for (String key : entry.keys()) {
            if (!pairs.containsKey(key)) {
                return "event=" + name + " lacks the key-value pair " + key + ": " + line;
            }
        }
        return null;
    }
}
