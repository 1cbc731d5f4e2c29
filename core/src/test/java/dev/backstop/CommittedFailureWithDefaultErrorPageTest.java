package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Container;
import dev.backstop.testing.ContainerLogs;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An application with a default error page (as Spring Boot registers one: location {@code /error}, no status, no
 * exception type) whose servlet writes JSON. When a failure comes after the response was committed, the filter must
 * write nothing more, and no one else may either: the client sees the partial body end without its terminating
 * chunk, never the error page's JSON appended to it (Tomcat's {@code StandardHostValve} includes the error page into
 * a committed response when an exception reaches it). And a failure is logged with one stack, not one by Backstop
 * and another by the container.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class CommittedFailureWithDefaultErrorPageTest {

    private static final String ERROR_PAGE_JSON = "{\"error\":\"written by the error page\"}";
    private static final String ERROR_PAGE_MARK = "written by the error page";
    private static final byte[] PARTIAL = new byte[8 * 1024];

    static {
        Arrays.fill(PARTIAL, (byte) 'x');
    }

    private static final String PARTIAL_TEXT = new String(PARTIAL, StandardCharsets.US_ASCII);

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;
    private ContainerLogs containerLogs;
    private ServletServer server;

    CommittedFailureWithDefaultErrorPageTest(Container container) {
        this.container = container;
    }

    @BeforeEach
    void start() throws Exception {
        containerLogs = ContainerLogs.capture(harness);
        server = harness.server(container, harness.filter().build())
                .errorPage("/error")
                .route("/error", (request, response) -> {
                    // As Spring Boot's error controller writes: through the output stream.
                    response.setContentType("application/json");
                    response.getOutputStream().write(ERROR_PAGE_JSON.getBytes(StandardCharsets.UTF_8));
                })
                .route("/committed", (request, response) -> {
                    response.setContentType("text/plain");
                    ServletOutputStream out = response.getOutputStream();
                    out.write(PARTIAL);
                    out.flush();
                    throw new IllegalStateException("broke after 8 KiB");
                })
                .route("/abort", (request, response) -> {
                    response.setHeader("X-Partial", "never sent");
                    throw new AbortRequestException("changed my mind");
                })
                .route("/async-committed", (request, response) -> {
                    AsyncContext async = request.startAsync();
                    async.setTimeout(30_000);
                    async.start(() -> {
                        try {
                            async.getResponse().setContentType("text/plain");
                            ServletOutputStream out = async.getResponse().getOutputStream();
                            out.write(PARTIAL);
                            out.flush();
                        } catch (IOException e) {
                            RecoveryFilter.fail(async, e);
                            return;
                        }
                        RecoveryFilter.fail(async, new IllegalStateException("async work broke after 8 KiB"));
                    });
                })
                .start();
    }

    /** The stacks logged in total: Backstop's lines with a throwable, and the containers' (and Jersey's). */
    private List<String> stacksLogged() {
        List<String> stacks = new ArrayList<>();
        for (ILoggingEvent event : harness.logs().all()) {
            if (event.getThrowableProxy() != null) {
                stacks.add("backstop " + event.getLevel() + ": " + event.getFormattedMessage());
            }
        }
        containerLogs.withStack().forEach(line -> stacks.add("container " + line));
        return stacks;
    }

    private static void assertTruncated(RawHttp.Exchange exchange) {
        assertThat(exchange.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("Transfer-Encoding: chunked");
        assertThat(exchange.text().contains(ERROR_PAGE_MARK))
                .as("the error page was appended to the committed response; its last bytes:%n%s",
                        tail(exchange.text()))
                .isFalse();
        assertThat(exchange.content()).as("the partial body").startsWith(PARTIAL_TEXT);
        assertThat(exchange.body()).as("no terminating chunk").doesNotEndWith("0\r\n\r\n");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
    }

    private static String tail(String text) {
        return text.length() <= 300 ? text : "..." + text.substring(text.length() - 300);
    }

    @Test
    void aPanicAfterCommitGetsNoErrorPageAppendedAndTheConnectionEnds() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/committed", true);

        assertTruncated(exchange);
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1);
        server.close(); // every request thread is done: nothing more can be logged
        assertThat(stacksLogged()).as("stacks logged").hasSize(1);
    }

    /**
     * {@code AbortRequestException} before anything was committed: a quiet abort. Not a panic, no ERROR and no stack
     * from Backstop (as before), and none from the container either (Tomcat logs the exception the filter rethrows to
     * it, SEVERE with its stack); and no error page.
     */
    @Test
    void anAbortBeforeCommitLogsNoStackAnywhereAndGetsNoErrorPage() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/abort", true);

        assertThat(exchange.text()).as("what the client got")
                .doesNotContain(ERROR_PAGE_MARK, "AbortRequestException", "changed my mind", "X-Partial");
        assertThat(exchange.ending()).isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        server.close();
        assertThat(harness.errors()).isEmpty();
        assertThat(harness.total("backstop.panics")).isZero();
        assertThat(containerLogs.errors()).as("the container's SEVERE/ERROR lines").isEmpty();
        assertThat(stacksLogged()).as("stacks logged").isEmpty();
    }

    /**
     * An async request whose work fails on its own thread after it committed 8 KiB: {@code RecoveryFilter.fail}
     * reports it (one stack), and the client sees the body end early. The container must not log it a second time
     * (on Tomcat the filter hands the already reported failure back to the container, which logs it SEVERE with its
     * stack), nor append its error page.
     */
    @Test
    void aCommittedAsyncFailureIsLoggedWithOneStackInTotal() throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/async-committed", true);

        assertTruncated(exchange);
        server.close();
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertThat(stacksLogged()).as("stacks logged").hasSize(1);
    }
}
