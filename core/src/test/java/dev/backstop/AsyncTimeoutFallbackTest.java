package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An async timeout closes the groups nobody waits for any more, but the request goes on: the fallback page the
 * application dispatches (as Spring MVC does for a {@code DeferredResult} timeout) can open groups of its own.
 */
class AsyncTimeoutFallbackTest {
    @RegisterExtension
    final Harness harness = new Harness();

    @ParameterizedTest
    @EnumSource(Container.class)
    void theFallbackDispatchOfAnAsyncTimeoutMayOpenAGroup(Container container) throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/slow", (request, response) -> {
                    if (request.getDispatcherType() == DispatcherType.ASYNC) {
                        try (ChildTasks tasks = ChildTasks.builder(request).name("fallback").open()) {
                            tasks.go(() -> { });
                            tasks.await();
                        }
                        response.getWriter().write("fallback");
                        return;
                    }
                    AsyncContext async = request.startAsync();
                    async.setTimeout(200);
                    ChildTasks slow = ChildTasks.builder(request).name("slow-call").open();
                    slow.go("downstream", () -> new CountDownLatch(1).await()); // the call the timeout gives up on
                    async.addListener(new AsyncListener() {
                        public void onTimeout(AsyncEvent e) { e.getAsyncContext().dispatch(); }
                        public void onComplete(AsyncEvent e) { }
                        public void onError(AsyncEvent e) { }
                        public void onStartAsync(AsyncEvent e) { }
                    });
                })
                .start();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/slow"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("fallback");
    }
}
