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
 * Review 12: on an async timeout {@code AsyncWatcher.onTimeout} ends the request's context ({@code context.end()}: every
 * open group closed, AND {@code ended = true}), although the request goes on: the application's own
 * {@code onTimeout} (registered before Backstop's, which is added at the filter's exit) dispatches to render a
 * fallback, as Spring MVC does for a {@code DeferredResult} timeout. That ASYNC dispatch is part of the same request,
 * but any {@code ChildTasks} group it opens is refused ("cannot open a group for a request that has already ended"),
 * which the filter answers as a panic: the fallback page becomes a 500. Only when the request had a context before the
 * timeout (a group opened, a failure), which is exactly when the request used child tasks. {@code onError} does the
 * same. Closing the open groups is right; refusing new ones until the request really completes is not.
 */
class Review12TimeoutFallbackTest {
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
