package dev.backstop.example;

import dev.backstop.AbortRequestException;
import dev.backstop.ChildTasks;
import dev.backstop.RecoveryFilter;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;

/**
 * The example's endpoints: each one walks one path of Backstop with a real handler. The index page lists them
 * ({@link ExampleServer#ENDPOINTS}); their tests are in {@code ExampleIntegrationTest}.
 */
final class Demos {

    private Demos() {
    }

    static void text(HttpServletResponse response, String body) throws IOException {
        response.setContentType("text/plain;charset=utf-8");
        response.getWriter().write(body);
    }

    /** {@code /hello}: the happy path. */
    static final class Hello extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            text(response, "hello");
        }
    }

    /** {@code /panic}: the handler throws before writing anything: a clean 500 with an error id. */
    static final class Panic extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) {
            throw new IllegalStateException("the example handler failed on purpose");
        }
    }

    /**
     * {@code /panic-after-commit}: half a chunked body is on the wire when the handler throws. The connection is
     * aborted, so the client sees a broken response, never a short one that looks whole.
     */
    static final class PanicAfterCommit extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain;charset=utf-8");
            ServletOutputStream out = response.getOutputStream();
            out.write("first half of the report...\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            throw new IllegalStateException("the report failed half way, after the response was committed");
        }
    }

    /** {@code /abort}: the handler gives up on purpose: the connection is aborted, and it is not a panic. */
    static final class Abort extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) {
            throw new AbortRequestException();
        }
    }

    /**
     * {@code /client-abort}: streams a line every 20 ms for up to 10 s. Hang up early ({@code curl --max-time 1})
     * and the write that fails is counted as a client abort: no ERROR, no stack.
     */
    static final class ClientAbort extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setContentType("text/plain;charset=utf-8");
            ServletOutputStream out = response.getOutputStream();
            for (int line = 1; line <= 500; line++) {
                out.write(("line " + line + " of a slow download\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                try {
                    Thread.sleep(20); // pacing the demo stream, not waiting for anything
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** {@code /fanout?fail=N}: three child tasks, the first N of them panic; the 500 carries the child's error id. */
    static final class FanOut extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            int fail = failures(request);
            try (ChildTasks tasks = ChildTasks.builder(request).name("fanout").open()) {
                startChildren(tasks, fail);
                tasks.await();
            }
            text(response, "3 children succeeded");
        }
    }

    /**
     * {@code /fanout-failfast}: one child fails at once while a sibling would take 10 s; fail-fast cancels the
     * sibling and the handler answers 500 straight away.
     */
    static final class FanOutFailFast extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            try (ChildTasks tasks = ChildTasks.builder(request).name("failfast").failFast().open()) {
                tasks.go("slow-sibling", () -> Thread.sleep(Duration.ofSeconds(10).toMillis()));
                tasks.go("quick-failure", () -> {
                    throw new IllegalStateException("a child failed at once; its slow sibling is cancelled");
                });
                tasks.await();
            }
            text(response, "not reached");
        }
    }

    /**
     * {@code /async-fanout?fail=N}: an async servlet fans out to three children and answers from
     * {@code completion()}, never blocking a container thread; a failure is answered by {@code RecoveryFilter.fail}.
     */
    static final class AsyncFanOut extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) {
            int fail = failures(request);
            AsyncContext async = request.startAsync();
            ChildTasks tasks = ChildTasks.builder(request).name("async-fanout").open();
            startChildren(tasks, fail);
            tasks.completion().whenComplete((ok, failure) -> {
                if (failure != null) {
                    RecoveryFilter.fail(async, failure);
                    return;
                }
                try {
                    text((HttpServletResponse) async.getResponse(), "3 children succeeded (async)");
                } catch (IOException e) {
                    RecoveryFilter.fail(async, e);
                    return;
                }
                async.complete();
            });
        }
    }

    /**
     * {@code /background}: answers at once and leaves an audit write behind, which fails a moment later. Nobody
     * can observe it, so Backstop logs and counts it ({@code source=background}).
     */
    static final class Background extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            ChildTasks.background(request, "audit", () -> {
                Thread.sleep(100); // the demo's audit store is slow: the response is long gone when it fails
                throw new IOException("the audit store was unavailable");
            });
            response.setStatus(HttpServletResponse.SC_ACCEPTED);
            text(response, "accepted; the audit write runs in the background");
        }
    }

    /**
     * {@code /leak}: the handler starts a slow child and forgets its group. When the request ends, Backstop cancels
     * the child, logs the leak at WARN with the line that opened the group, and counts it.
     */
    static final class Leak extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            ChildTasks tasks = ChildTasks.builder(request).name("forgotten").open();
            tasks.go("slow", () -> Thread.sleep(Duration.ofSeconds(30).toMillis()));
            text(response, "returned without closing the group");
        }
    }

    /** {@code /dropped-future}: a failing task whose future nobody reads; the guarded executor reports it anyway. */
    static final class DroppedFuture extends HttpServlet {
        private static final long serialVersionUID = 1L;

        private final transient ExecutorService workers;

        DroppedFuture(ExecutorService workers) {
            this.workers = workers;
        }

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            workers.submit(() -> {
                throw new IllegalStateException("a task whose future was dropped failed on purpose");
            });
            response.setStatus(HttpServletResponse.SC_ACCEPTED);
            text(response, "submitted; nobody reads its future, see the log and /metrics");
        }
    }

    /** For the web.xml context: a handler that throws a different exception, to tell the two apart on /metrics. */
    public static final class XmlPanic extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) {
            throw new UnsupportedOperationException("the web.xml context's handler failed on purpose");
        }
    }

    private static void startChildren(ChildTasks tasks, int fail) {
        for (int i = 1; i <= 3; i++) {
            boolean panics = i <= fail;
            tasks.go("child-" + i, () -> {
                if (panics) {
                    throw new IllegalStateException("a child failed on purpose");
                }
            });
        }
    }

    private static int failures(HttpServletRequest request) {
        String value = request.getParameter("fail");
        try {
            return value == null ? 0 : Math.max(0, Math.min(3, Integer.parseInt(value.trim())));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
