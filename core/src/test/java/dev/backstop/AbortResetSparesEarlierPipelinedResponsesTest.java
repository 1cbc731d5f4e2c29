package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import jakarta.servlet.ServletOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.IntSupplier;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The reset that ends a committed failure (SO_LINGER 0) makes the kernel throw away everything still queued on the
 * socket, not only the failed response's bytes. On a keep-alive connection with pipelined requests, the response
 * before the failed one is complete and already handed to the kernel; a 1 MiB body is still mostly queued when the
 * next request fails. That earlier, successful response must reach the client whole: only the failed one may be
 * cut. (An orderly abort, Jetty's own {@code sendError(-1)} without the zero linger, delivers it whole.) The same
 * zero linger is set on the TCP connection under an HTTP/2 stream, which every other stream shares.
 *
 * <p>Jetty only: it closes the connection as soon as Backstop aborts, so the test can wait for the close before the
 * client reads. Tomcat defers its close while the client has not drained the socket, so there the loss depends on
 * timing (seen in one of six runs of a probe with a 512 KiB body) and is not asserted.
 */
class AbortResetSparesEarlierPipelinedResponsesTest {

    private static final byte[] BIG = new byte[1024 * 1024];

    static {
        Arrays.fill(BIG, (byte) 'a');
    }

    @RegisterExtension
    final Harness harness = new Harness();

    /** How many connections the server holds open now. */
    private static IntSupplier openConnections(TestServer jetty) {
        ServerConnector connector = (ServerConnector) jetty.context().getServer().getConnectors()[0];
        return () -> connector.getConnectedEndPoints().size();
    }

    @Test
    void onJettyTheCompleteResponseBeforeAFailedPipelinedOneArrivesWhole() throws Exception {
        TestServer server = harness.jetty()
                .route("/big", (request, response) -> {
                    response.setContentType("text/plain");
                    response.setContentLength(BIG.length);
                    response.getOutputStream().write(BIG);
                })
                .route("/committed", (request, response) -> {
                    ServletOutputStream out = response.getOutputStream();
                    out.write(new byte[8192]);
                    out.flush();
                    throw new IllegalStateException("broke after commit");
                })
                .start();
        IntSupplier open = openConnections(server);

        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + "GET /committed HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            // The client reads once the server has ended the connection, as a slow or busy client would.
            await().atMost(Duration.ofSeconds(20)).until(() -> harness.total("backstop.responses") == 1
                    && open.getAsInt() == 0);
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[65536];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    received.write(buffer, 0, n);
                }
            } catch (IOException resetAfterTheFailedResponse) {
                // Expected once the first response and part of the second are read.
            }
        }

        String text = received.toString(StandardCharsets.ISO_8859_1);
        int headEnd = text.indexOf("\r\n\r\n");
        assertThat(headEnd).as("the first response's head arrived").isPositive();
        assertThat(text.substring(0, headEnd)).startsWith("HTTP/1.1 200");
        assertThat(text.length() - headEnd - 4).as("bytes of the first response's 1 MiB body, and after it")
                .isGreaterThanOrEqualTo(BIG.length);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
    }
}
