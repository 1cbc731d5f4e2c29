package dev.backstop.spring;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Real HTTP to the test server: the JDK client, and a raw socket for what a client sees of an aborted response. */
final class Http {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final int port;

    Http(int port) {
        this.port = port;
    }

    HttpResponse<String> get(String path) {
        try {
            return CLIENT.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                    .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The value of {@code backstop_panics_total{exception, source}} in {@code /actuator/prometheus}, 0 when the
     * series is not there.
     */
    double panics(String exception, String source) {
        return prometheus().lines()
                .filter(line -> line.startsWith("backstop_panics_total{"))
                .filter(line -> line.contains("exception=\"" + exception + "\"") && line.contains("source=\"" + source + "\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    String prometheus() {
        HttpResponse<String> response = get("/actuator/prometheus");
        if (response.statusCode() != 200) {
            throw new IllegalStateException("/actuator/prometheus answered " + response.statusCode());
        }
        return response.body();
    }

    /**
     * Everything the server sent for a keep-alive HTTP/1.1 GET (so a body of unknown length is chunked), until the
     * final chunk of a whole response, or until the server closed or reset the connection.
     */
    byte[] raw(String path) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = in.read(buffer)) != -1; ) {
                    received.write(buffer, 0, n);
                    if (new String(received.toByteArray(), StandardCharsets.ISO_8859_1).endsWith(FINAL_CHUNK)) {
                        break; // a whole response: the connection stays open for the next request
                    }
                }
            } catch (SocketException reset) {
                // A reset is how an aborted response may end: what came before it is what the client saw.
            }
            return received.toByteArray();
        }
    }

    /** What ends a whole chunked body (with no trailers). */
    static final String FINAL_CHUNK = "\r\n0\r\n\r\n";
}
