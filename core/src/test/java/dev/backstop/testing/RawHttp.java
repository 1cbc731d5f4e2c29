package dev.backstop.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** HTTP/1.1 over a raw socket, to see exactly what the wire carries and how the connection ends. */
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

    /** What the client saw: every byte until the server ended the connection, and how it ended. */
    public record Exchange(String text, Ending ending) {
        public String head() {
            int end = text.indexOf("\r\n\r\n");
            return end < 0 ? text : text.substring(0, end);
        }

        public String body() {
            int end = text.indexOf("\r\n\r\n");
            return end < 0 ? "" : text.substring(end + 4);
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
            return new Exchange(received.toString(StandardCharsets.ISO_8859_1), ending);
        }
    }
}
