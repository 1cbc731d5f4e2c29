package dev.backstop.redeploy.app;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;

/**
 * Submits work to the long-lived guarded pool: two callables that succeed (read), and two that fail with a checked
 * exception whose futures nobody reads (Backstop reports those when the futures become unreachable). The two
 * failures differ in class, so that neither is folded into a log-storm summary.
 */
public final class GuardedWork extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        ExecutorService workers = LongLivedBackstop.workers();
        Future<String> first = workers.submit(() -> "first");
        workers.submit(() -> {
            throw new IOException("a checked failure nobody reads");
        });
        workers.submit(() -> {
            throw new TimeoutException("another checked failure nobody reads");
        });
        Future<String> second = workers.submit(() -> "second");
        try {
            response.setContentType("text/plain");
            response.getWriter().print(first.get() + " " + second.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServletException(e);
        } catch (ExecutionException e) {
            throw new ServletException(e);
        }
    }
}
