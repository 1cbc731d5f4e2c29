package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.LogCatalogue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The log catalogue ({@code docs/log-catalogue.md}) and the code agree: every {@code event} that {@code LogLines}
 * can write has a row, and every row is an event the code writes. (That every line the suite makes Backstop write
 * matches its row is checked after each test, by {@code Harness}.)
 */
class LogCatalogueTest {

    private static final Path LOG_LINES = Path.of("src", "main", "java", "dev", "backstop", "internal", "pipeline",
            "LogLines.java");

    /** The event names {@code LogLines} gives its lines: the first argument of each {@code new Line(...)}. */
    private static Set<String> eventsInTheCode() throws IOException {
        String source = Files.readString(LOG_LINES, StandardCharsets.UTF_8);
        Set<String> events = new TreeSet<>();
        Matcher line = Pattern.compile("new Line\\(([^,]*),").matcher(source);
        while (line.find()) {
            Matcher name = Pattern.compile("\"([a-z_]+)\"").matcher(line.group(1));
            while (name.find()) {
                events.add(name.group(1));
            }
        }
        return events;
    }

    @Test
    void everyEventInTheCodeHasARowAndEveryRowAnEvent() throws IOException {
        Set<String> code = eventsInTheCode();

        assertThat(code).as("events LogLines writes").hasSizeGreaterThan(15);
        assertThat(LogCatalogue.entries().keySet()).containsExactlyInAnyOrderElementsOf(code);
    }

    @Test
    void everyRowHasALevelAShapeAndItsKeys() {
        assertThat(LogCatalogue.entries().values()).allSatisfy(entry -> {
            assertThat(entry.level()).as(entry.event()).isNotNull();
            assertThat(entry.start().pattern()).as(entry.event()).isNotEmpty();
        });
    }
}
