package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import dev.backstop.testing.TestServer;
import dev.backstop.testing.TomcatServer;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletRequestAttributeEvent;
import jakarta.servlet.ServletRequestAttributeListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.catalina.core.StandardContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Review 12: {@code RequestContext.of} is check-then-act on the request attribute. It reads a {@code Binding}, takes
 * the binding's lock, reads again, and then makes and sets a context for ANY value that is not already a context,
 * including null, which is what the attribute holds once {@code AsyncListener.onComplete} has ended the request
 * (RequestContext.java, {@code of}: after {@code synchronized (binding)} the second read is not checked against the
 * binding). An application thread that opens a group while the request completes therefore opens it on a request that
 * has ended: the group is never closed by the request's end, never reported as a leak, and its tasks run on unbounded.
 *
 * <p>The interleaving is forced with a request wrapper that pauses after the first read, the way a preempted
 * application thread would, and a request-attribute listener that lets it go on at the moment onComplete removes the
 * attribute (before the container recycles the request): on Tomcat, the group opens. Jetty 12 fires no attribute
 * event for that removal, so there the thread goes on once the response is complete: the request has been recycled,
 * and instead of the documented IllegalStateException, {@code ChildTasks.open} throws Jetty's NullPointerException
 * ({@code ServletApiRequest.getRequest()} is null), which {@code of} lets through from its second, unguarded read.
 */
class Review12LateGroupOpenRaceTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private static final String ATTRIBUTE = "dev.backstop.request";

    /** Pauses the first read of Backstop's attribute, after the read. */
    static final class PausingRequest extends HttpServletRequestWrapper {
        final CountDownLatch firstRead = new CountDownLatch(1);
        final CountDownLatch resume = new CountDownLatch(1);
        private final AtomicBoolean paused = new AtomicBoolean();

        PausingRequest(HttpServletRequest request) {
            super(request);
        }

        @Override
        public Object getAttribute(String name) {
            Object value = super.getAttribute(name);
            if (ATTRIBUTE.equals(name) && paused.compareAndSet(false, true)) {
                firstRead.countDown();
                try {
                    resume.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return value;
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aGroupOpenedAsTheRequestCompletesIsRefused(Container container) throws Exception {
        ExecutorService worker = harness.shutdownAfter(Executors.newSingleThreadExecutor());
        AtomicReference<AsyncContext> asyncRef = new AtomicReference<>();
        AtomicReference<PausingRequest> pausing = new AtomicReference<>();
        CompletableFuture<Object> opened = new CompletableFuture<>();
        CountDownLatch asyncStarted = new CountDownLatch(1);
        ServletRequestAttributeListener onRemoval = new ServletRequestAttributeListener() {
            @Override
            public void attributeRemoved(ServletRequestAttributeEvent event) {
                PausingRequest paused = pausing.get();
                if (ATTRIBUTE.equals(event.getName()) && paused != null && paused.resume.getCount() > 0) {
                    // onComplete ended the request and removed the attribute: the paused thread goes on now.
                    paused.resume.countDown();
                    try {
                        opened.get(10, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        // the assertion below reports it
                    }
                }
            }
        };
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/async", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    async.setTimeout(30_000);
                    asyncRef.set(async);
                    PausingRequest paused = new PausingRequest(request);
                    pausing.set(paused);
                    worker.execute(() -> {
                        try {
                            ChildTasks tasks = ChildTasks.builder(paused).name("late").open();
                            opened.complete(tasks);
                        } catch (Throwable t) {
                            opened.complete(t);
                        }
                    });
                    asyncStarted.countDown();
                })
                ;
        if (server instanceof TestServer jetty) {
            jetty.context().addEventListener(onRemoval);
        } else {
            ((StandardContext) ((TomcatServer) server).context()).addApplicationEventListener(onRemoval);
        }
        server.start();
        HttpClient client = HttpClient.newHttpClient();
        CompletableFuture<HttpResponse<String>> response = client.sendAsync(
                HttpRequest.newBuilder(server.uri("/async")).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(asyncStarted.await(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> pausing.get() != null);
        assertThat(pausing.get().firstRead.await(10, TimeUnit.SECONDS)).isTrue();

        // The application completes the request while its other thread is between the two reads.
        asyncRef.get().complete();
        assertThat(response.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        pausing.get().resume.countDown(); // Jetty; on Tomcat the listener has let it go already

        Object outcome = opened.get(10, TimeUnit.SECONDS);
        if (outcome instanceof ChildTasks tasks) {
            CountDownLatch ran = new CountDownLatch(1);
            tasks.go("after-the-end", ran::countDown); // accepted: the group lives on past its request
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            tasks.close();
        }
        assertThat(outcome).as("ChildTasks.open on a request whose async cycle has completed")
                .isInstanceOf(IllegalStateException.class);
    }
}
