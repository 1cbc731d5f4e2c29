package dev.backstop.benchmarks;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletContext;
import java.util.HashMap;
import java.util.Map;

/**
 * A request for JMH, without a container: fields for what Backstop reads, default answers for the rest. Not a mock:
 * a plain class, so that it adds no allocation or dispatch of its own to what the benchmarks measure. Generated
 * from the Servlet 6.0 interfaces, with the methods Backstop uses written by hand.
 */
final class StubRequest implements jakarta.servlet.http.HttpServletRequest {

    private final ServletContext context;
    private final Map<String, Object> attributes = new HashMap<>();

    StubRequest(ServletContext context) {
        this.context = context;
    }

    /** Starts the next "request": forgets the attributes the last one left. */
    void recycle() {
        if (!attributes.isEmpty()) {
            attributes.clear();
        }
    }

    @Override
    public Object getAttribute(String name) {
        return attributes.isEmpty() ? null : attributes.get(name);
    }

    @Override
    public void setAttribute(String name, Object value) {
        attributes.put(name, value);
    }

    @Override
    public void removeAttribute(String name) {
        attributes.remove(name);
    }

    @Override
    public DispatcherType getDispatcherType() {
        return DispatcherType.REQUEST;
    }

    @Override
    public boolean isAsyncStarted() {
        return false;
    }

    @Override
    public String getMethod() {
        return "GET";
    }

    @Override
    public String getRequestURI() {
        return "/bench";
    }

    @Override
    public ServletContext getServletContext() {
        return context;
    }

    @Override
    public java.lang.String getAuthType() {
        return null;
    }

    @Override
    public jakarta.servlet.http.Cookie[] getCookies() {
        return null;
    }

    @Override
    public long getDateHeader(java.lang.String arg0) {
        return 0;
    }

    @Override
    public java.lang.String getHeader(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Enumeration<java.lang.String> getHeaders(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Enumeration<java.lang.String> getHeaderNames() {
        return null;
    }

    @Override
    public int getIntHeader(java.lang.String arg0) {
        return 0;
    }

    @Override
    public java.lang.String getPathInfo() {
        return null;
    }

    @Override
    public java.lang.String getPathTranslated() {
        return null;
    }

    @Override
    public java.lang.String getContextPath() {
        return null;
    }

    @Override
    public java.lang.String getQueryString() {
        return null;
    }

    @Override
    public java.lang.String getRemoteUser() {
        return null;
    }

    @Override
    public boolean isUserInRole(java.lang.String arg0) {
        return false;
    }

    @Override
    public java.security.Principal getUserPrincipal() {
        return null;
    }

    @Override
    public java.lang.String getRequestedSessionId() {
        return null;
    }

    @Override
    public java.lang.StringBuffer getRequestURL() {
        return null;
    }

    @Override
    public java.lang.String getServletPath() {
        return null;
    }

    @Override
    public jakarta.servlet.http.HttpSession getSession(boolean arg0) {
        return null;
    }

    @Override
    public jakarta.servlet.http.HttpSession getSession() {
        return null;
    }

    @Override
    public java.lang.String changeSessionId() {
        return null;
    }

    @Override
    public boolean isRequestedSessionIdValid() {
        return false;
    }

    @Override
    public boolean isRequestedSessionIdFromCookie() {
        return false;
    }

    @Override
    public boolean isRequestedSessionIdFromURL() {
        return false;
    }

    @Override
    public boolean authenticate(jakarta.servlet.http.HttpServletResponse arg0) throws java.io.IOException, jakarta.servlet.ServletException {
        return false;
    }

    @Override
    public void login(java.lang.String arg0, java.lang.String arg1) throws jakarta.servlet.ServletException {
    }

    @Override
    public void logout() throws jakarta.servlet.ServletException {
    }

    @Override
    public java.util.Collection<jakarta.servlet.http.Part> getParts() throws java.io.IOException, jakarta.servlet.ServletException {
        return null;
    }

    @Override
    public jakarta.servlet.http.Part getPart(java.lang.String arg0) throws java.io.IOException, jakarta.servlet.ServletException {
        return null;
    }

    @Override
    public <T extends jakarta.servlet.http.HttpUpgradeHandler> T upgrade(java.lang.Class<T> arg0) throws java.io.IOException, jakarta.servlet.ServletException {
        return null;
    }

    @Override
    public java.util.Enumeration<java.lang.String> getAttributeNames() {
        return null;
    }

    @Override
    public java.lang.String getCharacterEncoding() {
        return null;
    }

    @Override
    public void setCharacterEncoding(java.lang.String arg0) throws java.io.UnsupportedEncodingException {
    }

    @Override
    public int getContentLength() {
        return 0;
    }

    @Override
    public long getContentLengthLong() {
        return 0;
    }

    @Override
    public java.lang.String getContentType() {
        return null;
    }

    @Override
    public jakarta.servlet.ServletInputStream getInputStream() throws java.io.IOException {
        return null;
    }

    @Override
    public java.lang.String getParameter(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Enumeration<java.lang.String> getParameterNames() {
        return null;
    }

    @Override
    public java.lang.String[] getParameterValues(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Map<java.lang.String, java.lang.String[]> getParameterMap() {
        return null;
    }

    @Override
    public java.lang.String getProtocol() {
        return null;
    }

    @Override
    public java.lang.String getScheme() {
        return null;
    }

    @Override
    public java.lang.String getServerName() {
        return null;
    }

    @Override
    public int getServerPort() {
        return 0;
    }

    @Override
    public java.io.BufferedReader getReader() throws java.io.IOException {
        return null;
    }

    @Override
    public java.lang.String getRemoteAddr() {
        return null;
    }

    @Override
    public java.lang.String getRemoteHost() {
        return null;
    }

    @Override
    public java.util.Locale getLocale() {
        return null;
    }

    @Override
    public java.util.Enumeration<java.util.Locale> getLocales() {
        return null;
    }

    @Override
    public boolean isSecure() {
        return false;
    }

    @Override
    public jakarta.servlet.RequestDispatcher getRequestDispatcher(java.lang.String arg0) {
        return null;
    }

    @Override
    public int getRemotePort() {
        return 0;
    }

    @Override
    public java.lang.String getLocalName() {
        return null;
    }

    @Override
    public java.lang.String getLocalAddr() {
        return null;
    }

    @Override
    public int getLocalPort() {
        return 0;
    }

    @Override
    public jakarta.servlet.AsyncContext startAsync() throws java.lang.IllegalStateException {
        return null;
    }

    @Override
    public jakarta.servlet.AsyncContext startAsync(jakarta.servlet.ServletRequest arg0, jakarta.servlet.ServletResponse arg1) throws java.lang.IllegalStateException {
        return null;
    }

    @Override
    public boolean isAsyncSupported() {
        return false;
    }

    @Override
    public jakarta.servlet.AsyncContext getAsyncContext() {
        return null;
    }

    @Override
    public java.lang.String getRequestId() {
        return null;
    }

    @Override
    public java.lang.String getProtocolRequestId() {
        return null;
    }

    @Override
    public jakarta.servlet.ServletConnection getServletConnection() {
        return null;
    }

}
