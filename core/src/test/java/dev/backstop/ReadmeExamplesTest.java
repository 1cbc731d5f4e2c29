package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.readme.ReadmeExamples;
import dev.backstop.readme.ReadmeExamples.Price;
import dev.backstop.readme.ReadmeExamples.Stock;
import dev.backstop.testing.Harness;
import dev.backstop.testing.TestServer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's {@code ChildTasks} examples compile (each is in {@link ReadmeExamples}, line for line), need no catch
 * that is never reached, and do what the README says on a real Jetty.
 */
class ReadmeExamplesTest {

    private static final Path README = Path.of("..", "README.md");
    private static final Path DOCS = Path.of("..", "docs");
    private static final Path EXAMPLES = Path.of("src", "test", "java", "dev", "backstop", "readme",
            "ReadmeExamples.java");

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();

    /** The fenced Java blocks of the README and of every page under docs/, each as its lines. */
    private static List<List<String>> javaBlocks() throws IOException {
        List<List<String>> blocks = new ArrayList<>();
        List<Path> pages = new ArrayList<>();
        pages.add(README);
        try (var docs = Files.list(DOCS)) {
            docs.filter(page -> page.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        for (Path page : pages) {
            blocks.addAll(javaBlocks(page));
        }
        return blocks;
    }

    private static List<List<String>> javaBlocks(Path page) throws IOException {
        List<List<String>> blocks = new ArrayList<>();
        List<String> current = null;
        for (String line : Files.readAllLines(page, StandardCharsets.UTF_8)) {
            if (current == null && line.equals("```java")) {
                current = new ArrayList<>();
            } else if (current != null && line.equals("```")) {
                blocks.add(current);
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        return blocks;
    }

    private static List<String> trimmed(List<String> lines) {
        return lines.stream().map(String::strip).filter(line -> !line.isEmpty()).toList();
    }

    @Test
    void everyChildTasksExampleIsCompiledCode() throws IOException {
        List<String> source = trimmed(Files.readAllLines(EXAMPLES, StandardCharsets.UTF_8));
        List<List<String>> examples = javaBlocks().stream()
                .filter(block -> block.stream().anyMatch(line -> line.contains("ChildTasks.")))
                .toList();

        assertThat(examples).as("the README's ChildTasks examples").hasSizeGreaterThanOrEqualTo(2);
        for (List<String> example : examples) {
            assertThat(java.util.Collections.indexOfSubList(source, trimmed(example)))
                    .as("README example not found line for line in ReadmeExamples.java:%n%s", String.join("\n", example))
                    .isNotNegative();
        }
    }

    @Test
    void noExampleCatchesWhatCannotBeThrown() throws IOException {
        for (List<String> block : javaBlocks()) {
            String text = String.join("\n", block);
            assertThat(text).doesNotContain("not reached").doesNotContain("ExecutionException")
                    .doesNotContain("Future<");
        }
    }

    @Test
    void theSynchronousExampleAnswersWithBothResultsOr500() throws Exception {
        AtomicBoolean inventoryDown = new AtomicBoolean();
        ReadmeExamples.Inventory inventory = id -> {
            if (inventoryDown.get()) {
                throw new IOException("inventory down");
            }
            return new Stock(3);
        };
        TestServer server = harness.jetty();
        server.context().addServlet(new ServletHolder(new ReadmeExamples.ProductServlet(id -> new Price(1250),
                inventory)), "/product");
        server.start();

        HttpResponse<String> ok = client.send(HttpRequest.newBuilder(server.uri("/product?id=7")).build(),
                HttpResponse.BodyHandlers.ofString());
        inventoryDown.set(true);
        HttpResponse<String> failed = client.send(HttpRequest.newBuilder(server.uri("/product?id=7")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(ok.body()).isEqualTo("1250 cents, 3 in stock");
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
    }

    @Test
    void theAsyncExampleAnswersOr500() throws Exception {
        AtomicBoolean serviceADown = new AtomicBoolean();
        TestServer server = harness.jetty();
        ServletHolder holder = new ServletHolder(new ReadmeExamples.AsyncServlet(id -> {
            if (serviceADown.get()) {
                throw new IOException("service A down");
            }
            return new Price(1);
        }));
        holder.setAsyncSupported(true);
        server.context().addServlet(holder, "/async");
        server.start();

        HttpResponse<String> ok = client.send(HttpRequest.newBuilder(server.uri("/async")).build(),
                HttpResponse.BodyHandlers.ofString());
        serviceADown.set(true);
        HttpResponse<String> failed = client.send(HttpRequest.newBuilder(server.uri("/async")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(ok.body()).isEqualTo("both answered");
        assertThat(failed.statusCode()).isEqualTo(500);
    }
}
