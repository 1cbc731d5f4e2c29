package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.ServletOutputStream;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * "HTTP/1.1 clients always can [tell a cut body] (no final chunk, or fewer bytes than the Content-Length)", and so
 * Backstop resets only HTTP/1.0 connections. But an HTTP/1.1 response can be delimited by the close too: Jetty
 * sends a body of unknown length that way when the connection is not persistent (the client sent
 * {@code Connection: close}, as one-shot clients and proxies configured with {@code proxy_http_version 1.1} but no
 * keep-alive do), and Tomcat when the application put {@code Connection: close} on the response. A failure after
 * commit then ends with an orderly close, and the client takes the truncated body for a complete 200.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class CommittedCloseDelimitedHttp11ResponseIsNotCleanTest {

    private static final byte[] PARTIAL = new byte[8 * 1024];

    static {
        Arrays.fill(PARTIAL, (byte) 'x');
    }

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    CommittedCloseDelimitedHttp11ResponseIsNotCleanTest(Container container) {
        this.container = container;
    }

    private ServletServer start() throws Exception {
        return harness.server(container, harness.filter().build())
                .route("/report", (request, response) -> {
                    response.setContentType("text/csv");
                    if (request.getParameter("close") != null) {
                        response.setHeader("Connection", "close"); // the application sheds the connection
                    }
                    ServletOutputStream out = response.getOutputStream();
                    out.write(PARTIAL);
                    out.flush();
                    throw new IllegalStateException("report query failed after 8 KiB");
                })
                .start();
    }

    /** Whether the client can see the body was cut: no framing it could check, and a clean close, say it cannot. */
    private static void assertVisiblyCut(RawHttp.Exchange exchange) {
        String head = exchange.head().toLowerCase(Locale.ROOT);
        boolean framed = head.contains("transfer-encoding: chunked") || head.contains("content-length:");
        assertThat(framed || exchange.ending() == RawHttp.Ending.RESET)
                .as("a cut body must be framed (chunked, or a length) or end in a reset; the client saw %s, then %s",
                        exchange.head(), exchange.ending())
                .isTrue();
    }

    @Test
    void aFailureAfterCommitIsVisibleToAnHttp11ClientThatAskedToClose() throws Exception {
        ServletServer server = start();

        RawHttp.Exchange exchange = RawHttp.send(server.port(),
                "GET /report HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertVisiblyCut(exchange);
    }

    @Test
    void aFailureAfterCommitIsVisibleWhenTheApplicationClosesTheConnection() throws Exception {
        ServletServer server = start();

        RawHttp.Exchange exchange = RawHttp.send(server.port(),
                "GET /report?close=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertVisiblyCut(exchange);
    }
}
