package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * "The client went away" is known only from the container's own signal (Jetty {@code EofException}, Tomcat
 * {@code ClientAbortException}, an {@code IOException} raised writing or flushing this response), never from the
 * text of a message: otherwise any failure whose message says "broken pipe" or "connection reset" (a file name, a
 * database driver's error) hides a real panic from the log, the dashboard and the client's 500. A real client abort
 * stays quiet, and its DEBUG line says what really happened: the innermost cause.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class ClientAbortsAreKnownOnlyFromTheContainerTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final CountDownLatch firstBytesWritten = new CountDownLatch(1);
    private final AtomicReference<Throwable> streamFailure = new AtomicReference<>();
    private ServletServer server;

    ClientAbortsAreKnownOnlyFromTheContainerTest(Container container) {
        this.container = container;
    }

    @BeforeEach
    void start() throws Exception {
        harness.expectNoUncaught();
        server = harness.server(container, harness.filter().build())
                .route("/missing-file", (request, response) -> {
                    throw new UncheckedIOException(new NoSuchFileException("/data/broken pipe.csv"));
                })
                .route("/upstream-reset", (request, response) -> {
                    throw new IOException("connection reset by upstream db");
                })
                .route("/stream", (request, response) -> {
                    ServletOutputStream out = response.getOutputStream();
                    byte[] chunk = new byte[16 * 1024];
                    try {
                        // Bounded: 10,000 chunks is far more than any socket buffer holds once the client is gone.
                        for (int i = 0; i < 10_000; i++) {
                            out.write(chunk);
                            out.flush();
                            firstBytesWritten.countDown();
                        }
                    } catch (IOException | RuntimeException e) {
                        streamFailure.set(e);
                        throw e;
                    }
                })
                .start();
    }

    private void assertPanic(String path, String exceptionTag) throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), path);

        String errorId = Answers.assertProblemJson500(exchange);
        Answers.assertOnePanicLine(harness, errorId);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", exceptionTag)).isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertThat(harness.total("backstop.client.aborts")).as("backstop.client.aborts").isZero();
    }

    @Test
    void aFileNamedBrokenPipeThatIsMissingIsAPanic() throws Exception {
        assertPanic("/missing-file", "UncheckedIOException");
    }

    @Test
    void anIOExceptionFromAnotherConnectionSayingConnectionResetIsAPanic() throws Exception {
        assertPanic("/upstream-reset", "IOException");
    }

    @Test
    void aClientThatHangsUpMidResponseIsAClientAbortNamingTheInnermostCause() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(
                    "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            assertThat(in.read(new byte[1024])).isPositive();
            assertThat(firstBytesWritten.await(10, TimeUnit.SECONDS)).isTrue();
            socket.setSoLinger(true, 0); // close with RST, as a killed client would
        }

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(harness.total("backstop.client.aborts")).isEqualTo(1));
        assertThat(harness.total("backstop.panics")).isZero();
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.logs().all()).allSatisfy(event -> assertThat(event.getThrowableProxy()).isNull());

        Throwable thrown = streamFailure.get();
        assertThat(thrown).as("what the container threw at the handler's write").isNotNull();
        Throwable innermost = thrown;
        while (innermost.getCause() != null && innermost.getCause() != innermost) {
            innermost = innermost.getCause();
        }
        assertThat(innermost).as("precondition: the container wrapped its cause, %s", thrown).isNotSameAs(thrown);
        List<ILoggingEvent> debug = harness.at(Level.DEBUG).stream()
                .filter(event -> event.getFormattedMessage().startsWith("client went away")).toList();
        assertThat(debug).hasSize(1);
        assertThat(debug.get(0).getFormattedMessage())
                .as("the DEBUG line names the innermost cause, %s: %s", innermost.getClass().getName(),
                        innermost.getMessage())
                .contains(innermost.getClass().getName())
                .contains(String.valueOf(innermost.getMessage()));
    }
}
