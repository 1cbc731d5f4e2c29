package dev.backstop.benchmarks;

import dev.backstop.ChildTasks;
import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;

/**
 * The server {@code load.sh} drives, on loopback. Two applications with the same handlers: {@code /with} behind
 * {@link RecoveryFilter}, {@code /without} behind nothing (Jetty's own error handling); both log through the same
 * SLF4J backend, which {@code load.sh} picks with {@code -Dslf4j.provider}: the no-op one, or logback writing to
 * standard output for the log-storm pair. Usage: {@code java -cp benchmarks.jar dev.backstop.benchmarks.LoadServer
 * PORT}.
 */
public final class LoadServer {

    private LoadServer() {
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 18180;
        ExecutorService executor = childExecutor();
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);

        ServletContextHandler with = handlers(new ServletContextHandler("/with"), executor);
        with.addFilter(new FilterHolder(RecoveryFilter.builder().meterRegistry(new SimpleMeterRegistry())
                .childTaskExecutor(executor).build()), "/*",
                EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
        ServletContextHandler without = handlers(new ServletContextHandler("/without"), executor);

        server.setHandler(new ContextHandlerCollection(with, without));
        server.start(); // load.sh polls the port until it answers
        server.join();
    }

    /** Virtual threads on Java 21+, a cached pool before: what ChildTasks would pick, shared by both fan-outs. */
    private static ExecutorService childExecutor() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException java17) {
            return Executors.newCachedThreadPool(task -> {
                Thread thread = new Thread(task);
                thread.setDaemon(true);
                return thread;
            });
        }
    }

    private static ServletContextHandler handlers(ServletContextHandler context, ExecutorService executor) {
        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.setContentType("text/plain");
                response.getWriter().write("hello");
            }
        }), "/hello");
        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) {
                throw new IllegalStateException("this endpoint always fails");
            }
        }), "/throw");
        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                try (ChildTasks tasks = ChildTasks.open(request)) {
                    for (int i = 0; i < 8; i++) {
                        tasks.go(() -> { });
                    }
                    tasks.await();
                }
                response.getWriter().write("8 children");
            }
        }), "/fanout-childtasks");
        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                CompletableFuture<?>[] children = new CompletableFuture<?>[8];
                for (int i = 0; i < 8; i++) {
                    children[i] = CompletableFuture.runAsync(() -> { }, executor);
                }
                CompletableFuture.allOf(children).join();
                response.getWriter().write("8 children");
            }
        }), "/fanout-completablefuture");
        return context;
    }
}
