package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import dev.backstop.testing.TomcatServer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A request thread goes back to its container without the interrupt flag that an interrupted {@code await()} or
 * {@code go()} left on it, so the container's next request on that thread starts clean; the handler itself still
 * sees the interrupt. The next request is the second of two pipelined on one connection, which both containers serve
 * on the thread that served the first, or, after a 500 (Tomcat closes the connection after one), the next request
 * of a Tomcat with one request thread.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class CleanRequestThreadsTest {

    private static final String HEAD = "Host: 127.0.0.1\r\nAccept: */*\r\n";

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final AtomicReference<Thread> firstOn = new AtomicReference<>();
    private final AtomicReference<Thread> nextOn = new AtomicReference<>();
    private final AtomicBoolean handlerSawTheInterrupt = new AtomicBoolean();
    private ServletServer server;

    CleanRequestThreadsTest(Container container) {
        this.container = container;
    }

    private void start() throws Exception {
        server = harness.server(container, harness.filter().build())
                // await() interrupted: the handler lets the ChildTaskException go, and gets a 500.
                .route("/await", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        interruptMe(tasks);
                        try {
                            tasks.await();
                        } finally {
                            handlerSawTheInterrupt.set(Thread.currentThread().isInterrupted());
                        }
                    }
                })
                // await() interrupted: the handler answers with what it has, a 200.
                .route("/fallback", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.open(request)) {
                        interruptMe(tasks);
                        try {
                            tasks.await();
                        } catch (ChildTaskException e) {
                            handlerSawTheInterrupt.set(Thread.currentThread().isInterrupted());
                            response.getOutputStream().write("partial".getBytes(StandardCharsets.UTF_8));
                        }
                    }
                })
                // go() interrupted while it waits for the slot its sibling holds.
                .route("/go", (request, response) -> {
                    try (ChildTasks tasks = ChildTasks.builder(request).limit(1).open()) {
                        interruptMe(tasks);
                        tasks.go("waits-for-the-slot", () -> {
                        });
                        handlerSawTheInterrupt.set(Thread.currentThread().isInterrupted());
                        tasks.await();
                    }
                })
                .route("/next", (request, response) -> {
                    nextOn.set(Thread.currentThread());
                    boolean interrupted = Thread.interrupted();
                    response.getOutputStream().write(("interrupted=" + interrupted).getBytes(StandardCharsets.UTF_8));
                });
        if (server instanceof TomcatServer tomcat) {
            tomcat.maxThreads(1);
        }
        server.start();
    }

    /** Whoever interrupts a handler (a watchdog, a framework's timeout): here, a task of its own group. */
    private void interruptMe(ChildTasks tasks) {
        Thread handler = Thread.currentThread();
        firstOn.set(handler);
        tasks.go("interrupter", () -> {
            handler.interrupt();
            new CountDownLatch(1).await();
        });
    }

    /** The request, then {@code /next} on the same connection (pipelined); the text of both responses. */
    private String pipelined(String first) throws Exception {
        return RawHttp.send(server.port(), "GET " + first + " HTTP/1.1\r\n" + HEAD + "\r\n"
                + "GET /next HTTP/1.1\r\n" + HEAD + "Connection: close\r\n\r\n").text();
    }

    /**
     * The request, then {@code /next} on the same thread: pipelined on Jetty; on Tomcat (one request thread) on a
     * connection of its own, since Tomcat closes the connection after a 500.
     */
    private String[] oneAfterTheOther(String first) throws Exception {
        if (container == Container.JETTY) {
            String both = pipelined(first);
            int second = both.indexOf("HTTP/1.1 ", 1);
            return new String[] {both.substring(0, Math.max(second, 0)), both.substring(Math.max(second, 0))};
        }
        return new String[] {RawHttp.get(server.port(), first).text(), RawHttp.get(server.port(), "/next").text()};
    }

    @Test
    void aFallbackAfterAnInterruptedAwaitLeavesTheNextPipelinedRequestClean() throws Exception {
        start();

        String exchange = pipelined("/fallback");

        assertThat(exchange).startsWith("HTTP/1.1 200 ").contains("partial");
        assertThat(handlerSawTheInterrupt).as("the handler sees the interrupt while it runs").isTrue();
        assertThat(nextOn.get()).as("served on the same thread").isSameAs(firstOn.get());
        assertThat(exchange).contains("interrupted=false");
    }

    @Test
    void theRequestAfterA500FromAnInterruptedAwaitStartsClean() throws Exception {
        start();

        String[] exchanges = oneAfterTheOther("/await");

        assertThat(exchanges[0]).startsWith("HTTP/1.1 500 ");
        assertThat(handlerSawTheInterrupt).isTrue();
        assertThat(nextOn.get()).as("served on the same thread").isSameAs(firstOn.get());
        assertThat(exchanges[1]).startsWith("HTTP/1.1 200 ").contains("interrupted=false");
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
    }

    @Test
    void theRequestAfterAnInterruptedGoStartsClean() throws Exception {
        start();

        String[] exchanges = oneAfterTheOther("/go");

        assertThat(exchanges[0]).startsWith("HTTP/1.1 500 ");
        assertThat(handlerSawTheInterrupt).as("go() keeps the interrupt for the handler").isTrue();
        assertThat(nextOn.get()).isSameAs(firstOn.get());
        assertThat(exchanges[1]).startsWith("HTTP/1.1 200 ").contains("interrupted=false");
    }

    @Test
    void clearingTheFlagIsADebugLineNamingTheRequest() throws Exception {
        start();

        pipelined("/fallback");

        assertThat(harness.at(Level.DEBUG)).anySatisfy(event -> assertThat(event.getFormattedMessage())
                .startsWith("interrupt flag cleared as the request's dispatch ended")
                .contains("method=GET path=/fallback"));
        assertThat(harness.errors()).isEmpty();
    }
}
