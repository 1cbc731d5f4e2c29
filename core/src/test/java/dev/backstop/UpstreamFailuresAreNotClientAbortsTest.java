package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.EofException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * "The client went away" must be this response's signal, not any failure that looks like one. Two ways an upstream
 * failure is taken for a client abort today, and so is neither logged nor counted as a panic, and its client gets a
 * reset instead of a 500:
 * <ul>
 *   <li>Jetty's {@code EofException} is jetty-io's, not the server's: Jetty's {@code HttpClient} (and every client
 *       built on it: Spring's {@code JettyClientHttpConnector}, SolrJ) throws it when an <em>upstream</em> resets the
 *       connection while the request is sent, wrapped in the {@code ExecutionException} of {@code send()}. Found by
 *       class anywhere in the chain, it is called a client abort, on Jetty and on Tomcat alike.</li>
 *   <li>On Tomcat, once one write to the client failed, the coyote response keeps its error exception, so every
 *       later {@code IOException} is a client abort: a streaming handler that ignores the write failure (the client
 *       left) and then fails on its upstream loses that upstream failure.</li>
 * </ul>
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class UpstreamFailuresAreNotClientAbortsTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final CountDownLatch clientWriteFailed = new CountDownLatch(1);

    UpstreamFailuresAreNotClientAbortsTest(Container container) {
        this.container = container;
    }

    private ServletServer start() throws Exception {
        return harness.server(container, harness.filter().build())
                .route("/inventory", (request, response) -> {
                    // What HttpClient.newRequest(...).send() throws when the upstream resets the connection while the
                    // request goes out, as the application passes it on.
                    throw new UncheckedIOException("inventory service call failed", new IOException(
                            new ExecutionException(new EofException(new IOException("Connection reset by peer")))));
                })
                .route("/stream-then-upstream", (request, response) -> {
                    ServletOutputStream out = response.getOutputStream();
                    byte[] chunk = new byte[16 * 1024];
                    try {
                        for (int i = 0; i < 10_000; i++) {
                            out.write(chunk);
                            out.flush();
                        }
                    } catch (IOException clientLeft) {
                        clientWriteFailed.countDown(); // nobody to stream to; finish the bookkeeping
                    }
                    throw new IOException("billing service: read timed out");
                })
                .start();
    }

    @Test
    void anUpstreamEofExceptionFromJettysHttpClientIsAPanicAnswered500() throws Exception {
        ServletServer server = start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/inventory");

        String errorId = Answers.assertProblemJson500(exchange);
        Answers.assertOnePanicLine(harness, errorId);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertThat(harness.total("backstop.client.aborts")).isZero();
    }

    @Test
    void anUpstreamIOExceptionAfterAnIgnoredClientWriteFailureIsAPanic() throws Exception {
        ServletServer server = start();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(
                    "GET /stream-then-upstream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            assertThat(in.read(new byte[1024])).isPositive();
            socket.setSoLinger(true, 0); // the client is killed
        }
        assertThat(clientWriteFailed.await(20, TimeUnit.SECONDS)).as("the handler saw its write fail").isTrue();

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(harness.total("backstop.panics") + harness.total("backstop.client.aborts")).isEqualTo(1));
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IOException"))
                .as("the billing failure, a panic").isEqualTo(1);
        assertThat(harness.errors()).hasSize(1);
    }
}
