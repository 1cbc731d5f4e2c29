package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestClock;
import dev.backstop.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Review 12: log-storm windows moved from {@code System.nanoTime()} (monotonic, 35763ea) to a {@link java.time.Clock},
 * and the production default is {@code Clock.systemUTC()} (Backstop.java, {@code Builder.clock}), the wall clock. The
 * wall clock is stepped: NTP corrections, a VM resumed from a snapshot, an operator fixing the time. Windows end at
 * {@code now + interval} in wall time, so when the clock steps back by an hour every open window lasts an hour plus its
 * interval: for that hour each kind of panic after the first is folded (no stack, its error id absent from the log
 * except in a sample of five), although the interval has long passed. The test moves a clock the way the system clock
 * moves when it is stepped back; a monotonic source would be immune.
 */
class Review12LogStormWallClockTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @Test
    void aWallClockSteppedBackDoesNotStretchTheWindow() throws Exception {
        TestClock wallClock = new TestClock();
        Backstop backstop = harness.closeAfter(Backstop.builder().meterRegistry(harness.registry())
                .logStormInterval(Duration.ofSeconds(10)).clock(wallClock).build());
        TestServer server = harness.jetty(RecoveryFilter.builder().backstop(backstop).build())
                .route("/same", (request, response) -> {
                    throw new IllegalStateException("the same failure");
                })
                .start();
        HttpClient client = HttpClient.newHttpClient();

        client.send(HttpRequest.newBuilder(server.uri("/same")).build(), HttpResponse.BodyHandlers.discarding());
        wallClock.advance(Duration.ofHours(-1)); // NTP steps the system clock back an hour
        wallClock.advance(Duration.ofSeconds(11)); // and 11 s pass: the 10 s window is over
        client.send(HttpRequest.newBuilder(server.uri("/same")).build(), HttpResponse.BodyHandlers.discarding());

        List<ILoggingEvent> logged = harness.errors().stream()
                .filter(e -> e.getFormattedMessage().startsWith("panic ")).toList();
        assertThat(logged).as("panics logged in full, 11 s apart with a 10 s interval").hasSize(2);
    }
}
