package dev.backstop.jersey.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * HTTP/1.1 over a raw socket, to see exactly what the wire carries and how the connection ends. A copy of core's
 * test helper of the same name.
 */
public final class RawHttp {

    /** How the server ended the exchange. */
    public enum Ending {
        /** The server closed the connection (FIN). */
        CLOSED,
        /** The connection was reset (RST). */
        RESET,
        /** Still open after the read timeout: the server finished the response (keep-alive) or hung. */
        KEPT_OPEN
    }

    /**
     * What the client saw: every byte until the server ended the connection, how it ended, and how long after the
     * request was sent it ended.
     */
    public record Exchange(String text, Ending ending, Duration elapsed) {
        public Exchange(String text, Ending ending) {
            this(text, ending, Duration.ZERO);
        }

        public String head() {
            int end = text.indexOf("\r\n\r\n");
            return end < 0 ? text : text.substring(0, end);
        }

        public String body() {
            int end = text.indexOf("\r\n\r\n");
            return end < 0 ? "" : text.substring(end + 4);
        }

        /** The value of the first header named {@code name} (case-insensitive), or null. */
        public String header(String name) {
            String[] lines = head().split("\r\n");
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0 && lines[i].substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return lines[i].substring(colon + 1).trim();
                }
            }
            return null;
        }

        /**
         * The body with chunked framing removed when the response is chunked (as far as the chunks go: a truncated
         * body gives what arrived), else {@link #body()}.
         */
        public String content() {
            String encoding = header("Transfer-Encoding");
            if (encoding == null || !encoding.toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
                return body();
            }
            String raw = body();
            StringBuilder out = new StringBuilder();
            int at = 0;
            while (at < raw.length()) {
                int lineEnd = raw.indexOf("\r\n", at);
                if (lineEnd < 0) {
                    break;
                }
                int size;
                try {
                    size = Integer.parseInt(raw.substring(at, lineEnd).split(";")[0].trim(), 16);
                } catch (NumberFormatException notAChunk) {
                    break;
                }
                if (size == 0) {
                    break;
                }
                int start = lineEnd + 2;
                int stop = Math.min(raw.length(), start + size);
                out.append(raw, start, stop);
                at = stop + 2;
            }
            return out.toString();
        }
    }

    private RawHttp() {
    }

    /** A GET with {@code Connection: close}; see {@link #get(int, String, boolean)}. */
    public static Exchange get(int port, String path) throws IOException {
        return get(port, path, false);
    }

    /**
     * Sends a GET and reads until the server ends the connection. With {@code keepAlive} the server frames the body
     * (chunked or Content-Length) and keeps a cleanly finished connection open, so an abort shows as an early end;
     * without it the body runs to the close. The read timeout (10 s) is a bound for a broken server, never a wait.
     */
    public static Exchange get(int port, String path, boolean keepAlive) throws IOException {
        String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
                + (keepAlive ? "" : "Connection: close\r\n") + "\r\n";
        return send(port, request);
    }

    /**
     * Sends {@code request} as it is (head lines ending in CRLF, then an empty line) and reads until the server ends
     * the connection or 10 s pass with nothing more (KEPT_OPEN).
     */
    public static Exchange send(int port, String request) throws IOException {
        long started = System.nanoTime();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            Ending ending = Ending.CLOSED;
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    received.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException e) {
                ending = Ending.KEPT_OPEN;
            } catch (SocketException e) {
                ending = Ending.RESET;
            }
            return new Exchange(received.toString(StandardCharsets.ISO_8859_1), ending,
                    Duration.ofNanos(System.nanoTime() - started));
        }
    }
}
