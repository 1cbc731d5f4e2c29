package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A cause chain may be a cycle: {@code a.initCause(b)} after {@code b = new X(a)} is legal, the JDK prints it as
 * "CIRCULAR REFERENCE", and drivers build such chains (an exception and the one it was retried for). Everywhere else
 * Backstop walks causes at most {@code MAX_CAUSES} deep. On Tomcat, once a write to the client has failed (the
 * coyote response keeps that exception), the check "is this failure the container's own output failure" walks the
 * handler's failure's chain with no bound, looking for an identity that is not there: the request thread spins at
 * 100% CPU for ever, the failure is never logged, counted or answered.
 *
 * <p>The cycle here is made through {@code getCause()} so that the test can break it afterwards and let the spinning
 * thread go; to Backstop it is the same as one built with {@code initCause}.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class CyclicCauseAfterAClientWriteFailureTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private final CountDownLatch clientWriteFailed = new CountDownLatch(1);
    private final Cyclic upstream = new Cyclic("billing service: read timed out");

    CyclicCauseAfterAClientWriteFailureTest(Container container) {
        this.container = container;
    }

    /** An exception whose cause chain loops back to itself (through a wrapper), until the test breaks the loop. */
    static final class Cyclic extends IOException {
        private static final long serialVersionUID = 1L;
        volatile boolean looping = true;
        final RuntimeException retried;

        Cyclic(String message) {
            super(message);
            this.retried = new IllegalStateException("retry of the billing call gave up", this);
        }

        @Override
        public synchronized Throwable getCause() {
            return looping ? retried : null;
        }
    }

    @AfterEach
    void breakTheCycle() {
        upstream.looping = false; // lets a spinning request thread go, whatever the test found
    }

    @Test
    void aFailureWithACyclicCauseChainAfterTheClientLeftIsStillReported() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/stream-then-upstream", (request, response) -> {
                    ServletOutputStream out = response.getOutputStream();
                    byte[] chunk = new byte[16 * 1024];
                    try {
                        for (int i = 0; i < 10_000; i++) {
                            out.write(chunk);
                            out.flush();
                        }
                    } catch (IOException clientLeft) {
                        clientWriteFailed.countDown();
                    }
                    throw upstream;
                })
                .start();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET /stream-then-upstream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            assertThat(in.read(new byte[1024])).isPositive();
            socket.setSoLinger(true, 0); // the client is killed
        }
        assertThat(clientWriteFailed.await(20, TimeUnit.SECONDS)).as("the handler saw its write fail").isTrue();

        // Reported (as a panic, or as a client abort: either way once) within a few seconds, not never.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(harness.total("backstop.panics") + harness.total("backstop.client.aborts"))
                        .as("the failure was handled at all").isEqualTo(1));
    }
}
