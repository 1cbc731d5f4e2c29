package dev.backstop.example;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.MDC;

/**
 * Puts a request id in the SLF4J MDC (from {@code X-Request-Id}, or a new one) and in the response, the way most
 * applications do. Registered in front of RecoveryFilter, so Backstop's log lines, and its child tasks, carry it.
 */
public final class RequestIdFilter implements Filter {

    static final String HEADER = "X-Request-Id";
    static final String MDC_KEY = "requestId";

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String given = ((HttpServletRequest) request).getHeader(HEADER);
        String id = given != null && given.matches("[A-Za-z0-9-]{1,64}") ? given
                : Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        ((HttpServletResponse) response).setHeader(HEADER, id);
        MDC.put(MDC_KEY, id);
        try {
            chain.doFilter(request, response);
        } finally {
            MDC.remove(MDC_KEY);
        }
    }
}
