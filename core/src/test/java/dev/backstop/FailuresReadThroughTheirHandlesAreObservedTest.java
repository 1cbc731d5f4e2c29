package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A checked failure is logged as unobserved "only if nobody observed it by the time the group closed", and reading
 * it through its handle ({@code exception()}) observes it. A handler that fans out to twenty lookups and reads every
 * handle's exception itself (to answer with what it has) observed every failure; yet the group keeps only seventeen
 * for the unobserved report, counts the rest without their handles, and on close warns that "3 more unobserved child
 * task failures ... were counted but not kept".
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class FailuresReadThroughTheirHandlesAreObservedTest {

    private static final int LOOKUPS = 20;

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final HttpClient client = HttpClient.newHttpClient();

    FailuresReadThroughTheirHandlesAreObservedTest(Container container) {
        this.container = container;
    }

    @Test
    void everyFailureReadThroughItsHandleIsObservedHoweverManyFailed() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/fan-out", (request, response) -> {
                    int failed = 0;
                    try (ChildTasks tasks = ChildTasks.builder(request).name("lookups").open()) {
                        List<TaskHandle<String>> handles = new ArrayList<>();
                        for (int i = 0; i < LOOKUPS; i++) {
                            int n = i;
                            handles.add(tasks.submit("lookup-" + n, () -> {
                                throw new IOException("lookup " + n + " is down");
                            }));
                        }
                        await().atMost(Duration.ofSeconds(10)).until(() ->
                                handles.stream().noneMatch(h -> h.state() == TaskHandle.State.RUNNING));
                        for (TaskHandle<String> handle : handles) {
                            if (handle.exception() != null) { // read: observed
                                failed++;
                            }
                        }
                    }
                    response.getWriter().write("failed=" + failed);
                })
                .start();

        HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri("/fan-out"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("failed=" + LOOKUPS);
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "failure")).isEqualTo(LOOKUPS);
        assertThat(harness.at(Level.WARN)).as("every failure was read through its handle")
                .noneSatisfy(event -> assertThat(event.getFormattedMessage()).contains("unobserved"));
    }
}
