package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flight recording taken during an incident shows Backstop's panics, abandoned tasks and leaked groups beside GC,
 * locks and I/O: one event each, with the error id the client and the log have.
 */
class FlightRecorderTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newHttpClient();

    private String get(TestServer server, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).build(), HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Test
    void aRecordingHoldsOneEventPerPanicAbandonedTaskAndLeakedGroup() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestServer server = harness.jetty()
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("recorded");
                })
                .route("/leak", (request, response) -> {
                    ChildTasks tasks = ChildTasks.builder(request).name("forgotten")
                            .gracePeriod(Duration.ZERO).open();
                    CountDownLatch running = new CountDownLatch(1);
                    tasks.go("deaf", () -> {
                        running.countDown();
                        dev.backstop.testing.Blocking.ignoringInterrupts(release);
                    });
                    running.await();
                })
                .start();
        List<String> errorIds = new ArrayList<>();
        Path file = dir.resolve("incident.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("dev.backstop.Panic");
            recording.enable("dev.backstop.TaskAbandoned");
            recording.enable("dev.backstop.GroupLeaked");
            recording.start();
            for (int i = 0; i < 5; i++) { // identical: four of them folded in the log, every one in the recording
                Matcher id = Pattern.compile("\"errorId\":\"([0-9a-f]{16})\"").matcher(get(server, "/panic?n=" + i));
                assertThat(id.find()).isTrue();
                errorIds.add(id.group(1));
            }
            get(server, "/leak");
            recording.stop();
            recording.dump(file);
        } finally {
            release.countDown();
        }

        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> panics = events.stream()
                .filter(event -> event.getEventType().getName().equals("dev.backstop.Panic")).toList();
        assertThat(panics).extracting(event -> event.getString("errorId")).containsExactlyInAnyOrderElementsOf(errorIds);
        assertThat(panics).allSatisfy(event -> {
            assertThat(event.getString("source")).isEqualTo("handler");
            assertThat(event.getString("exception")).isEqualTo(IllegalStateException.class.getName());
            assertThat(event.getString("path")).isEqualTo("/panic");
            assertThat(event.getString("method")).isEqualTo("GET");
        });
        assertThat(events).filteredOn(event -> event.getEventType().getName().equals("dev.backstop.GroupLeaked"))
                .singleElement().satisfies(event -> {
                    assertThat(event.getString("group")).isEqualTo("forgotten");
                    assertThat(event.getString("path")).isEqualTo("/leak");
                    assertThat(event.getString("openedAt")).contains("FlightRecorderTest");
                });
        assertThat(events).filteredOn(event -> event.getEventType().getName().equals("dev.backstop.TaskAbandoned"))
                .singleElement().satisfies(event -> {
                    assertThat(event.getString("group")).isEqualTo("forgotten");
                    assertThat(event.getString("task")).isEqualTo("deaf");
                });
        assertThat(Files.size(file)).isPositive();
    }
}
