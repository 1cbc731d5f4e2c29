package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import dev.backstop.testing.TestServer;
import dev.backstop.testing.TomcatServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.tomcat.util.descriptor.web.ErrorPage;
import org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An ERROR dispatch after {@code sendError} runs after the REQUEST dispatch ended the request: a group its error page
 * opens belongs to that dispatch, and is closed (its tasks cancelled, the leak reported) when the dispatch ends.
 */
class ErrorDispatchGroupsTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();

    @ParameterizedTest
    @EnumSource(Container.class)
    void aGroupLeftOpenByAnErrorPageIsClosedWhenTheRequestEnds(Container container) throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        harness.closeAfter(release::countDown); // never leave the task blocked after the test
        AtomicBoolean interrupted = new AtomicBoolean();
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/missing", (request, response) -> response.sendError(404))
                .route("/error-page", (request, response) -> {
                    ChildTasks tasks = ChildTasks.builder(request).name("error-page-lookups").open();
                    tasks.go("suggestions", () -> {
                        started.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            interrupted.set(true);
                            throw e;
                        }
                    });
                    started.await(); // the task runs (not merely queued) when the request ends
                    response.setStatus(404);
                    response.getWriter().write("not found");
                    // The page forgets to close its group: the request's end must.
                });
        if (server instanceof TestServer jetty) {
            ErrorPageErrorHandler pages = new ErrorPageErrorHandler();
            pages.addErrorPage(404, "/error-page");
            jetty.context().setErrorHandler(pages);
        } else {
            ErrorPage page = new ErrorPage();
            page.setErrorCode(404);
            page.setLocation("/error-page");
            ((TomcatServer) server).context().addErrorPage(page);
        }
        server.start();

        HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri("/missing"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(interrupted).as("the error page's task was cancelled when the request ended").isTrue();
            assertThat(harness.total("backstop.leaked.groups")).isEqualTo(1.0);
            assertThat(harness.logs().at(Level.WARN)).anySatisfy(line ->
                    assertThat(line.getFormattedMessage()).contains("error-page-lookups"));
        });
    }
}
