package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.FailureClasses;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import java.lang.ref.WeakReference;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What Backstop tracks about exception classes stays bounded without getting in the way: the {@code exception} tag
 * cap of one source does not spill over into another, and a class that panicked can still be unloaded.
 */
class BoundedTrackingTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();

    /**
     * The {@code exception} tag takes at most 100 class names, per source: a burst of more than 100 distinct child
     * exception types (generated classes, say) leaves the handler's tags as they were.
     */
    @Test
    void aBurstOfChildExceptionTypesLeavesTheHandlersExceptionTagIntact() throws Exception {
        List<Class<? extends RuntimeException>> types = FailureClasses.generate(120);
        TestServer server = harness.jetty(harness.filter().logStormInterval(Duration.ZERO).build())
                .route("/burst", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.builder(request).name("burst").limit(8).open()) {
                        for (Class<? extends RuntimeException> type : types) {
                            tasks.go(() -> {
                                throw newInstance(type);
                            });
                        }
                        tasks.await();
                    }
                })
                .route("/panic", (request, response) -> {
                    throw new IllegalStateException("the handler broke");
                })
                .start();

        assertThat(get(server, "/burst").statusCode()).isEqualTo(500);
        assertThat(harness.count("backstop.panics", "source", "child")).as("child panics").isEqualTo(120);

        assertThat(get(server, "/panic").statusCode()).isEqualTo(500);

        SoftAssertions.assertSoftly(softly -> {
            softly.assertThat(harness.count("backstop.panics", "source", "handler", "exception",
                    "IllegalStateException")).as("backstop.panics{source=handler, exception=IllegalStateException}")
                    .isEqualTo(1);
            softly.assertThat(harness.count("backstop.panics", "source", "handler", "exception", "other"))
                    .as("backstop.panics{source=handler, exception=other}").isZero();
        });
    }

    /**
     * With folding on (the default log-storm interval), exception classes that panicked, in handlers and in child
     * tasks, once or a few times (so that their windows folded), become unloadable once the application drops them,
     * while the filter keeps running. They are hidden classes defined without {@code STRONG}, as a scripting engine
     * or a plugin would define them: nothing but reachability keeps them loaded.
     *
     * <p>Control: classes thrown in the same server but caught by the handler, never reaching Backstop, must unload
     * first; otherwise the test itself (or the container) holds them and says nothing about Backstop. The captured
     * log events are cleared before, because each keeps its throwable.
     *
     * <p>The classes thrown once come last, after the folded ones and the control: a window that folded ends after
     * one interval, but one that never folded outlives the summary thread and stays, with its class, until a
     * thousand other kinds of failure arrive or the filter is destroyed.
     */
    @Test
    void exceptionClassesThatPanickedCanStillBeUnloaded() throws Exception {
        Queue<Class<? extends RuntimeException>> toThrow = new ConcurrentLinkedQueue<>();
        TestServer server = harness.jetty(harness.filter().build())
                .route("/panic", (request, response) -> {
                    throw newInstance(toThrow.remove());
                })
                .route("/fanout", (request, response) -> {
                    Class<? extends RuntimeException> type = toThrow.remove();
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        tasks.go(() -> {
                            throw newInstance(type);
                        });
                        tasks.await();
                    }
                })
                .route("/caught", (request, response) -> {
                    try {
                        throw newInstance(toThrow.remove());
                    } catch (RuntimeException handledByTheApplication) {
                        response.sendError(500);
                    }
                })
                .start();

        Map<String, List<WeakReference<Class<?>>>> groups = new LinkedHashMap<>();
        groups.put("handler panics, 3 of each (folded)", throwEach(server, "/panic", toThrow, 3, 3));
        groups.put("child panics, 3 of each (folded)", throwEach(server, "/fanout", toThrow, 2, 3));
        List<WeakReference<Class<?>>> control = throwEach(server, "/caught", toThrow, 3, 3);
        groups.put("handler panics, 1 of each", throwEach(server, "/panic", toThrow, 3, 1));
        groups.put("child panics, 1 of each", throwEach(server, "/fanout", toThrow, 2, 1));

        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(3 * 3 + 3);
        assertThat(harness.count("backstop.panics", "source", "child")).isEqualTo(2 * 3 + 2);
        assertThat(harness.total("backstop.folded.lines")).as("panics folded into open windows")
                .isEqualTo(3 * 2 + 2 * 2);
        assertThat(toThrow).isEmpty();
        // A captured event keeps the logged throwable, and so its class.
        harness.logs().clear();

        await("the control classes, which never reached Backstop, unload")
                .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> {
                    System.gc();
                    assertThat(stillLoaded(control)).as("control classes still loaded").isZero();
                });
        await("every class that panicked through Backstop unloads")
                .atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> {
                    System.gc();
                    Map<String, Integer> loaded = new LinkedHashMap<>();
                    groups.forEach((group, refs) -> loaded.put(group, stillLoaded(refs)));
                    assertThat(loaded).as("exception classes still loaded, by how they panicked")
                            .allSatisfy((group, count) -> assertThat(count).as(group).isZero());
                });
    }

    /**
     * Makes {@code classes} new exception classes and sends {@code timesEach} requests to {@code path} for each, the
     * route throwing an instance of the class it takes from {@code toThrow}. Only weak references to the classes
     * remain once it returns.
     */
    private List<WeakReference<Class<?>>> throwEach(TestServer server, String path,
            Queue<Class<? extends RuntimeException>> toThrow, int classes, int timesEach) throws Exception {
        List<WeakReference<Class<?>>> refs = new ArrayList<>();
        for (Class<? extends RuntimeException> type : FailureClasses.generate(classes)) {
            refs.add(new WeakReference<>(type));
            for (int i = 0; i < timesEach; i++) {
                toThrow.add(type);
                assertThat(get(server, path).statusCode()).as("GET %s", path).isEqualTo(500);
            }
        }
        return refs;
    }

    private static int stillLoaded(List<WeakReference<Class<?>>> refs) {
        return (int) refs.stream().filter(ref -> ref.get() != null).count();
    }

    private static RuntimeException newInstance(Class<? extends RuntimeException> type) throws Exception {
        return type.getConstructor().newInstance();
    }

    private HttpResponse<String> get(TestServer server, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
