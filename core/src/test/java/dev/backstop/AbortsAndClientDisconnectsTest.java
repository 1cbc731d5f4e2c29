package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.TestServer;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Clients that go away and handlers that abort on purpose are not panics. */
class AbortsAndClientDisconnectsTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final CountDownLatch firstBytesWritten = new CountDownLatch(1);
    private TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = harness.jetty()
                .route("/broken-pipe", (request, response) -> {
                    throw new IllegalStateException("wrapped", new IOException("Broken pipe"));
                })
                .route("/connection-reset", (request, response) -> {
                    throw new java.io.UncheckedIOException(new java.net.SocketException("Connection reset by peer"));
                })
                .route("/wrapped-abort", (request, response) -> {
                    throw new ServletException("Request processing failed", new AbortRequestException());
                })
                .route("/abort", (request, response) -> {
                    response.setHeader("X-Partial", "never sent");
                    throw new AbortRequestException();
                })
                .route("/abort-committed", (request, response) -> {
                    response.getOutputStream().write("started".getBytes(StandardCharsets.US_ASCII));
                    response.flushBuffer();
                    throw new AbortRequestException("changed my mind");
                })
                .route("/stream", (request, response) -> {
                    ServletOutputStream out = response.getOutputStream();
                    byte[] chunk = new byte[16 * 1024];
                    // Bounded: 10,000 chunks is far more than any socket buffer holds once the client is gone.
                    for (int i = 0; i < 10_000; i++) {
                        out.write(chunk);
                        out.flush();
                        firstBytesWritten.countDown();
                    }
                })
                .start();
    }

    /**
     * "Broken pipe" or "connection reset" in a message says nothing of this response: an upstream database or HTTP
     * client reports the same words, and a message carries input. Only the container's own signal is a client abort.
     */
    @ParameterizedTest(name = "{0} is a panic")
    @CsvSource({
        "/broken-pipe, IllegalStateException",
        "/connection-reset, UncheckedIOException",
    })
    void socketWordsInAMessageAreNotAClientAbort(String path, String exceptionTag) throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), path);

        assertThat(exchange.head()).startsWith("HTTP/1.1 500");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", exceptionTag)).isEqualTo(1.0);
        assertThat(harness.total("backstop.client.aborts")).isZero();
        assertThat(harness.errors()).hasSize(1);
    }

    @Test
    void abortRequestExceptionWrappedByAFrameworkStillAbortsQuietly() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/wrapped-abort", true);

        assertThat(exchange.text()).isEmpty();
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.total("backstop.panics")).isZero();
    }

    @Test
    void clientThatClosesItsSocketMidResponseIsAClientAbort() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write(
                    "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            assertThat(in.read(new byte[1024])).isPositive();
            assertThat(firstBytesWritten.await(10, TimeUnit.SECONDS)).isTrue();
            socket.setSoLinger(true, 0); // close with RST, as a killed client would
        }

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(harness.total("backstop.client.aborts")).isEqualTo(1.0));
        assertThat(harness.total("backstop.panics")).isZero();
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.logs().all()).allSatisfy(event -> assertThat(event.getThrowableProxy()).isNull());
    }

    @Test
    void abortRequestExceptionAbortsTheConnectionQuietly() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/abort", true);

        assertThat(exchange.text()).as("no response at all").isEmpty();
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.total("backstop.panics")).isZero();
        assertThat(harness.count("backstop.responses", "outcome", "aborted", "reason", "abort_request"))
                .isEqualTo(1.0);
    }

    @Test
    void abortRequestExceptionAfterCommitEndsTheBodyWithoutCompletingIt() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/abort-committed", true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200");
        assertThat(exchange.body()).contains("started").doesNotEndWith("0\r\n\r\n");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.total("backstop.panics")).isZero();
    }
}
