package dev.backstop.benchmarks;

/** A ServletContext for JMH: a Jetty server info, no attributes; see {@link StubRequest}. */
final class StubContext implements jakarta.servlet.ServletContext {

    @Override
    public String getServerInfo() {
        return "jetty/12.1.14";
    }

    @Override
    public java.lang.String getContextPath() {
        return null;
    }

    @Override
    public jakarta.servlet.ServletContext getContext(java.lang.String arg0) {
        return null;
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public int getEffectiveMajorVersion() {
        return 0;
    }

    @Override
    public int getEffectiveMinorVersion() {
        return 0;
    }

    @Override
    public java.lang.String getMimeType(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Set<java.lang.String> getResourcePaths(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.net.URL getResource(java.lang.String arg0) throws java.net.MalformedURLException {
        return null;
    }

    @Override
    public java.io.InputStream getResourceAsStream(java.lang.String arg0) {
        return null;
    }

    @Override
    public jakarta.servlet.RequestDispatcher getRequestDispatcher(java.lang.String arg0) {
        return null;
    }

    @Override
    public jakarta.servlet.RequestDispatcher getNamedDispatcher(java.lang.String arg0) {
        return null;
    }

    @Override
    public void log(java.lang.String arg0) {
    }

    @Override
    public void log(java.lang.String arg0, java.lang.Throwable arg1) {
    }

    @Override
    public java.lang.String getRealPath(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.lang.String getInitParameter(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Enumeration<java.lang.String> getInitParameterNames() {
        return null;
    }

    @Override
    public boolean setInitParameter(java.lang.String arg0, java.lang.String arg1) {
        return false;
    }

    @Override
    public java.lang.Object getAttribute(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Enumeration<java.lang.String> getAttributeNames() {
        return null;
    }

    @Override
    public void setAttribute(java.lang.String arg0, java.lang.Object arg1) {
    }

    @Override
    public void removeAttribute(java.lang.String arg0) {
    }

    @Override
    public java.lang.String getServletContextName() {
        return null;
    }

    @Override
    public jakarta.servlet.ServletRegistration.Dynamic addServlet(java.lang.String arg0, java.lang.String arg1) {
        return null;
    }

    @Override
    public jakarta.servlet.ServletRegistration.Dynamic addServlet(java.lang.String arg0, jakarta.servlet.Servlet arg1) {
        return null;
    }

    @Override
    public jakarta.servlet.ServletRegistration.Dynamic addServlet(java.lang.String arg0, java.lang.Class<? extends jakarta.servlet.Servlet> arg1) {
        return null;
    }

    @Override
    public jakarta.servlet.ServletRegistration.Dynamic addJspFile(java.lang.String arg0, java.lang.String arg1) {
        return null;
    }

    @Override
    public <T extends jakarta.servlet.Servlet> T createServlet(java.lang.Class<T> arg0) throws jakarta.servlet.ServletException {
        return null;
    }

    @Override
    public jakarta.servlet.ServletRegistration getServletRegistration(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Map<java.lang.String, ? extends jakarta.servlet.ServletRegistration> getServletRegistrations() {
        return null;
    }

    @Override
    public jakarta.servlet.FilterRegistration.Dynamic addFilter(java.lang.String arg0, java.lang.String arg1) {
        return null;
    }

    @Override
    public jakarta.servlet.FilterRegistration.Dynamic addFilter(java.lang.String arg0, jakarta.servlet.Filter arg1) {
        return null;
    }

    @Override
    public jakarta.servlet.FilterRegistration.Dynamic addFilter(java.lang.String arg0, java.lang.Class<? extends jakarta.servlet.Filter> arg1) {
        return null;
    }

    @Override
    public <T extends jakarta.servlet.Filter> T createFilter(java.lang.Class<T> arg0) throws jakarta.servlet.ServletException {
        return null;
    }

    @Override
    public jakarta.servlet.FilterRegistration getFilterRegistration(java.lang.String arg0) {
        return null;
    }

    @Override
    public java.util.Map<java.lang.String, ? extends jakarta.servlet.FilterRegistration> getFilterRegistrations() {
        return null;
    }

    @Override
    public jakarta.servlet.SessionCookieConfig getSessionCookieConfig() {
        return null;
    }

    @Override
    public void setSessionTrackingModes(java.util.Set<jakarta.servlet.SessionTrackingMode> arg0) {
    }

    @Override
    public java.util.Set<jakarta.servlet.SessionTrackingMode> getDefaultSessionTrackingModes() {
        return null;
    }

    @Override
    public java.util.Set<jakarta.servlet.SessionTrackingMode> getEffectiveSessionTrackingModes() {
        return null;
    }

    @Override
    public void addListener(java.lang.String arg0) {
    }

    @Override
    public <T extends java.util.EventListener> void addListener(T arg0) {
    }

    @Override
    public void addListener(java.lang.Class<? extends java.util.EventListener> arg0) {
    }

    @Override
    public <T extends java.util.EventListener> T createListener(java.lang.Class<T> arg0) throws jakarta.servlet.ServletException {
        return null;
    }

    @Override
    public jakarta.servlet.descriptor.JspConfigDescriptor getJspConfigDescriptor() {
        return null;
    }

    @Override
    public java.lang.ClassLoader getClassLoader() {
        return null;
    }

    @Override
    public void declareRoles(java.lang.String... arg0) {
    }

    @Override
    public java.lang.String getVirtualServerName() {
        return null;
    }

    @Override
    public int getSessionTimeout() {
        return 0;
    }

    @Override
    public void setSessionTimeout(int arg0) {
    }

    @Override
    public java.lang.String getRequestCharacterEncoding() {
        return null;
    }

    @Override
    public void setRequestCharacterEncoding(java.lang.String arg0) {
    }

    @Override
    public java.lang.String getResponseCharacterEncoding() {
        return null;
    }

    @Override
    public void setResponseCharacterEncoding(java.lang.String arg0) {
    }

}
