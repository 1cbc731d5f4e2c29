package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.ServletOutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An HTTP/1.0 client (no keep-alive) gets a body that has neither chunks nor a Content-Length: it ends where the
 * connection ends. When the handler fails after 8 KiB went out, an orderly close (FIN) would look to that client like
 * the whole body; only a TCP reset tells it the body is incomplete. So the connection must end with a reset (the
 * client's read fails with a {@code SocketException}), not a close.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class CommittedHttp10ResponseEndsWithAResetTest {

    private static final byte[] PARTIAL = new byte[8 * 1024];

    static {
        Arrays.fill(PARTIAL, (byte) 'x');
    }

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    CommittedHttp10ResponseEndsWithAResetTest(Container container) {
        this.container = container;
    }

    @Test
    void aFailureAfterCommitResetsAnHttp10Connection() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/x", (request, response) -> {
                    response.setContentType("text/plain");
                    ServletOutputStream out = response.getOutputStream();
                    out.write(PARTIAL);
                    out.flush();
                    throw new IllegalStateException("broke after 8 KiB");
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.send(server.port(), "GET /x HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");

        if (!exchange.text().isEmpty()) { // a reset may discard what the client had not read yet
            assertThat(exchange.head()).as("the head").matches("(?s)HTTP/1\\.[01] 200.*");
            assertThat(exchange.header("Content-Length")).as("Content-Length").isNull();
        }
        assertThat(exchange.ending()).as("how the connection ended, after %s bytes", exchange.text().length())
                .isEqualTo(RawHttp.Ending.RESET);
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
    }
}
