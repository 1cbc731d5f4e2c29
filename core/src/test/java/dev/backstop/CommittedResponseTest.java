package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.TestServer;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A failure after the response was committed must never look like a complete response on the wire. */
class CommittedResponseTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = harness.jetty()
                .route("/chunked", (request, response) -> {
                    if (request.getParameter("async") != null && request.getDispatcherType() == DispatcherType.REQUEST) {
                        request.startAsync().dispatch();
                        return;
                    }
                    ServletOutputStream out = response.getOutputStream();
                    out.write("partial-body".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    throw new IllegalStateException("broke halfway");
                })
                .route("/sized", (request, response) -> {
                    response.setContentLength(100);
                    ServletOutputStream out = response.getOutputStream();
                    out.write("0123456789".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    throw new IllegalStateException("broke after 10 of 100 bytes");
                })
                .start();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/chunked", "/chunked?async=true"})
    void committedChunkedResponseIsAbortedWithoutTheFinalChunk(String path) throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), path, true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("Transfer-Encoding: chunked");
        assertThat(exchange.body()).contains("partial-body");
        assertThat(exchange.body()).as("no terminating chunk").doesNotEndWith("0\r\n\r\n");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);

        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1.0);
        assertThat(harness.count("backstop.responses", "outcome", "aborted", "reason", "panic")).isEqualTo(1.0);
        assertThat(harness.total("backstop.responses")).isEqualTo(1.0);
    }

    @Test
    void committedResponseWithContentLengthIsNotPadded() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/sized", true);

        assertThat(exchange.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("Content-Length: 100");
        assertThat(exchange.body()).isEqualTo("0123456789");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.count("backstop.responses", "outcome", "aborted", "reason", "panic")).isEqualTo(1.0);
    }

    @Test
    void httpClientSeesAnErrorNotATruncatedSuccess() {
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(server.uri("/chunked")).build();

        assertThatThrownBy(() -> client.send(request, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
    }
}
