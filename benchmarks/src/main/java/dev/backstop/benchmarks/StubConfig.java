package dev.backstop.benchmarks;

import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import java.util.Collections;
import java.util.Enumeration;

/** A FilterConfig without init-params, for JMH; see {@link StubRequest}. */
final class StubConfig implements FilterConfig {

    private final ServletContext context;

    StubConfig(ServletContext context) {
        this.context = context;
    }

    @Override
    public String getFilterName() {
        return "backstop";
    }

    @Override
    public ServletContext getServletContext() {
        return context;
    }

    @Override
    public String getInitParameter(String name) {
        return null;
    }

    @Override
    public Enumeration<String> getInitParameterNames() {
        return Collections.emptyEnumeration();
    }
}
