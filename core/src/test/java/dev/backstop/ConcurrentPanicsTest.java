package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Under concurrency, every panic is counted once and logged once, and every response's error id is in the log. */
class ConcurrentPanicsTest {

    private static final int REQUESTS = 2_000;
    private static final Pattern ERROR_ID = Pattern.compile("\"errorId\":\"([0-9a-f]{16})\"");

    @RegisterExtension
    final Harness harness = new Harness();

    @Test
    void twoThousandConcurrentRequestsHalfPanickingAreEachReportedExactlyOnce() throws Exception {
        ExecutorService clientThreads = harness.shutdownAfter(Executors.newFixedThreadPool(8));
        // Every panic logged in full (no log-storm folding), so that every response's id is in the log.
        TestServer server = harness.jetty(harness.filter().logStormInterval(Duration.ZERO).build())
                .route("/work", (request, response) -> {
                    if (Integer.parseInt(request.getParameter("n")) % 2 == 1) {
                        throw new IllegalStateException("request " + request.getParameter("n"));
                    }
                    response.getWriter().write("ok");
                });
        server.start();
        HttpClient client = HttpClient.newBuilder().executor(clientThreads)
                .connectTimeout(Duration.ofSeconds(30)).build();

        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int n = 0; n < REQUESTS; n++) {
            HttpRequest request = HttpRequest.newBuilder(server.uri("/work?n=" + n))
                    .timeout(Duration.ofSeconds(60)).build();
            responses.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(responses.toArray(CompletableFuture[]::new)).join();

        Set<String> responseIds = responses.stream().map(CompletableFuture::join)
                .filter(r -> r.statusCode() == 500)
                .map(r -> {
                    Matcher m = ERROR_ID.matcher(r.body());
                    assertThat(m.find()).as(r.body()).isTrue();
                    return m.group(1);
                })
                .collect(Collectors.toSet());
        long ok = responses.stream().map(CompletableFuture::join)
                .filter(r -> r.statusCode() == 200 && r.body().equals("ok")).count();

        List<ILoggingEvent> errors = harness.errors();
        Set<String> loggedIds = errors.stream().map(e -> e.getMDCPropertyMap().get("errorId"))
                .collect(Collectors.toSet());
        assertThat(ok).isEqualTo(REQUESTS / 2);
        assertThat(responseIds).hasSize(REQUESTS / 2);
        assertThat(errors).hasSize(REQUESTS / 2);
        assertThat(loggedIds).isEqualTo(responseIds);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(REQUESTS / 2);
    }
}
