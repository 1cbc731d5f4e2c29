package dev.backstop.testing;

import dev.backstop.RecoveryFilter;
import jakarta.servlet.http.HttpServletRequest;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs test code inside a real request on an embedded Jetty guarded by {@link RecoveryFilter}, because
 * {@code ChildTasks} only opens on a request the filter saw. Whatever the scenario returns or throws comes back to
 * the test; the HTTP response is a plain 200 either way.
 */
public final class InRequest implements AutoCloseable {

    /** Test code that runs on the request thread. */
    @FunctionalInterface
    public interface Scenario<T> {
        T run(HttpServletRequest request) throws Throwable;
    }

    private final TestServer server;
    private final HttpClient client = HttpClient.newHttpClient();
    private volatile Scenario<?> scenario;
    private volatile CompletableFuture<Object> result;

    public InRequest(RecoveryFilter filter) throws Exception {
        server = new TestServer(filter).route("/run", (request, response) -> {
            CompletableFuture<Object> outcome = result;
            try {
                outcome.complete(scenario.run(request));
            } catch (Throwable t) {
                outcome.completeExceptionally(t);
            }
            response.setStatus(200);
        }).start();
    }

    public TestServer server() {
        return server;
    }

    /** Runs {@code body} in a request and returns its result, or throws what it threw. */
    @SuppressWarnings("unchecked")
    public <T> T run(Scenario<T> body) throws Throwable {
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        this.result = outcome;
        this.scenario = body;
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri("/run"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new AssertionError("the scenario's request answered " + response.statusCode());
        }
        try {
            return (T) outcome.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause();
        }
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
