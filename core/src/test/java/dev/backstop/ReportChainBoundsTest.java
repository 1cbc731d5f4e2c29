package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import io.restassured.path.json.JsonPath;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A request's report chain keeps the most recent failures: a handler that handled dozens of child panics (a fallback
 * around a failing dependency) and then lets the next one escape through {@code await()} still gets it reported once,
 * with the child's error id.
 */
class ReportChainBoundsTest {

    @RegisterExtension
    final Harness harness = new Harness();

    @ParameterizedTest
    @EnumSource(Container.class)
    void theChildPanicThatEscapesIsReportedOnceAfterManyHandledOnes(Container container) throws Exception {
        ServletServer server = harness.server(container, harness.filter().logStormInterval(Duration.ZERO).build())
                .route("/fanout", (request, response) -> {
                    try (ChildTasks prices = ChildTasks.builder(request).name("prices").open()) {
                        for (int i = 0; i < 40; i++) {
                            prices.go(() -> {
                                throw new IllegalStateException("price service down");
                            });
                        }
                        prices.await();
                    } catch (ChildTaskException handled) {
                        // fall back to cached prices
                    }
                    try (ChildTasks stock = ChildTasks.builder(request).name("stock").open()) {
                        stock.go("stock", () -> {
                            throw new IllegalArgumentException("stock service broke");
                        });
                        stock.await(); // escapes: a 500 carrying the stock child's error id
                    }
                })
                .start();

        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/fanout"))
                .header("Accept", "application/json").timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(harness.total("backstop.panics")).as("40 price panics and 1 stock panic").isEqualTo(41.0);
        String errorId = JsonPath.from(response.body()).getString("errorId");
        List<ILoggingEvent> stockLines = harness.errors().stream()
                .filter(e -> e.getFormattedMessage().contains("stock service broke")).toList();
        assertThat(stockLines).hasSize(1);
        assertThat(stockLines.get(0).getFormattedMessage()).contains("errorId=" + errorId).contains("source=child");
    }
}
