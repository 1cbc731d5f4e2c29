package dev.backstop.benchmarks;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.PrintWriter;
import java.io.Writer;

/** A response for JMH that discards what is written; see {@link StubRequest}. */
final class StubResponse implements jakarta.servlet.http.HttpServletResponse {

    private final ServletOutputStream out = new ServletOutputStream() {
        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
        }

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b, int off, int len) {
        }
    };
    private final PrintWriter writer = new PrintWriter(Writer.nullWriter());
    private int status = 200;

    int status() {
        return status;
    }

    @Override
    public void setStatus(int status) {
        this.status = status;
    }

    @Override
    public int getStatus() {
        return status;
    }

    @Override
    public void reset() {
        status = 200;
    }

    @Override
    public void sendError(int code) {
        status = code;
    }

    @Override
    public ServletOutputStream getOutputStream() {
        return out;
    }

    @Override
    public PrintWriter getWriter() {
        return writer;
    }

    @Override
    public void addCookie(jakarta.servlet.http.Cookie arg0) {
    }

    @Override
    public boolean containsHeader(java.lang.String arg0) {
        return false;
    }

    @Override
    public java.lang.String encodeURL(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.lang.String encodeRedirectURL(java.lang.String arg0) {
        return null;
    }

    @Override
    public void sendError(int arg0, java.lang.String arg1) throws java.io.IOException {
    }

    @Override
    public void sendRedirect(java.lang.String arg0) throws java.io.IOException {
    }

    @Override
    public void setDateHeader(java.lang.String arg0, long arg1) {
    }

    @Override
    public void addDateHeader(java.lang.String arg0, long arg1) {
    }

    @Override
    public void setHeader(java.lang.String arg0, java.lang.String arg1) {
    }

    @Override
    public void addHeader(java.lang.String arg0, java.lang.String arg1) {
    }

    @Override
    public void setIntHeader(java.lang.String arg0, int arg1) {
    }

    @Override
    public void addIntHeader(java.lang.String arg0, int arg1) {
    }

    @Override
    public java.lang.String getHeader(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Collection<java.lang.String> getHeaders(java.lang.String arg0) {
        return java.util.List.of();
    }

    @Override
    public java.util.Collection<java.lang.String> getHeaderNames() {
        return java.util.List.of();
    }

    @Override
    public java.lang.String getCharacterEncoding() {
        return null;
    }

    @Override
    public java.lang.String getContentType() {
        return null;
    }

    @Override
    public void setCharacterEncoding(java.lang.String arg0) {
    }

    @Override
    public void setContentLength(int arg0) {
    }

    @Override
    public void setContentLengthLong(long arg0) {
    }

    @Override
    public void setContentType(java.lang.String arg0) {
    }

    @Override
    public void setBufferSize(int arg0) {
    }

    @Override
    public int getBufferSize() {
        return 0;
    }

    @Override
    public void flushBuffer() throws java.io.IOException {
    }

    @Override
    public void resetBuffer() {
    }

    @Override
    public boolean isCommitted() {
        return false;
    }

    @Override
    public void setLocale(java.util.Locale arg0) {
    }

    @Override
    public java.util.Locale getLocale() {
        return null;
    }

}
