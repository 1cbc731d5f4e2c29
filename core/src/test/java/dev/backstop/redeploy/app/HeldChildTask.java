package dev.backstop.redeploy.app;

import dev.backstop.ChildTasks;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one child task that holds until the test lets it go: it counts down the ServletContext attribute
 * {@value #STARTED} when it runs, then waits for {@value #RELEASE}. Both are {@code CountDownLatch}es the test sets
 * before the application starts.
 */
public final class HeldChildTask extends HttpServlet {

    public static final String STARTED = "redeploy.task.started";
    public static final String RELEASE = "redeploy.task.release";

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        CountDownLatch started = (CountDownLatch) getServletContext().getAttribute(STARTED);
        CountDownLatch release = (CountDownLatch) getServletContext().getAttribute(RELEASE);
        try (ChildTasks tasks = ChildTasks.open(request)) {
            tasks.go("held", () -> {
                started.countDown();
                release.await();
            });
            tasks.await();
        }
        response.setContentType("text/plain");
        response.getWriter().print("done");
    }
}
