package dev.backstop.readme;

import dev.backstop.ChildTasks;
import dev.backstop.RecoveryFilter;
import dev.backstop.TaskHandle;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;

/**
 * The README's Java examples, as code that compiles: {@code ReadmeExamplesTest} checks that every {@code ChildTasks}
 * example in the README appears here line for line, and serves these servlets on a real Jetty.
 */
public final class ReadmeExamples {

    private ReadmeExamples() {
    }

    public record Price(int cents) {
    }

    public record Stock(int count) {
    }

    /** Where prices come from; may fail with a checked exception, as a remote call does. */
    public interface Prices {
        Price load(String id) throws IOException;
    }

    /** Where stock levels come from. */
    public interface Inventory {
        Stock load(String id) throws IOException;
    }

    /** The synchronous handler. */
    public static final class ProductServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        private final transient Prices prices;
        private final transient Inventory inventory;

        public ProductServlet(Prices prices, Inventory inventory) {
            this.prices = prices;
            this.inventory = inventory;
        }

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            String id = request.getParameter("id");            // read what the tasks need here, on the request thread
            try (ChildTasks tasks = ChildTasks.builder(request).name("product").timeout(Duration.ofSeconds(2)).open()) {
                TaskHandle<Price> price = tasks.submit("price", () -> prices.load(id));
                TaskHandle<Stock> stock = tasks.submit("stock", () -> inventory.load(id));
                tasks.await();                                  // ChildTaskException if either failed: the filter answers 500
                render(response, price.get(), stock.get());     // both succeeded: get() throws nothing checked
            }
        }

        private static void render(HttpServletResponse response, Price price, Stock stock) throws IOException {
            response.setContentType("text/plain");
            response.getWriter().write(price.cents() + " cents, " + stock.count() + " in stock");
        }
    }

    /** The async servlet. */
    public static final class AsyncServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        private final transient Prices serviceA;

        public AsyncServlet(Prices serviceA) {
            this.serviceA = serviceA;
        }

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) {
            AsyncContext async = request.startAsync();
            ChildTasks tasks = ChildTasks.open(request);
            tasks.go("a", () -> callServiceA());
            tasks.go("b", () -> callServiceB());
            tasks.completion().whenComplete((ok, failure) -> {
                if (failure != null) {
                    RecoveryFilter.fail(async, failure);
                    return;
                }
                writeAnswer(async.getResponse());
                async.complete();
            });
        }

        private void callServiceA() throws IOException {
            serviceA.load("a");
        }

        private void callServiceB() {
            // Nothing to call: service B always answers.
        }

        private static void writeAnswer(ServletResponse response) {
            try {
                response.getWriter().write("both answered");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
