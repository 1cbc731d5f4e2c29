package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Container;
import dev.backstop.testing.ContainerLogs;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A fatal error escaping a handler: the filter logs it ({@code fatal error ...}, ERROR, with its stack), counts it,
 * commits a bare 500 and rethrows it, as the contract says. The client never sees the error's class or message, and
 * the error is logged with exactly one stack in all the logs: the container that receives the rethrown error must
 * not log a second one (Tomcat's connection handler logs every {@code OutOfMemoryError} that reaches it), and no
 * thread may die of it (an uncaught-exception handler prints another).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class FatalErrorLoggedWithOneStackTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    FatalErrorLoggedWithOneStackTest(Container container) {
        this.container = container;
    }

    @Test
    void anOutOfMemoryErrorIsLoggedWithOneStackAndNeverShownToTheClient() throws Exception {
        Queue<Throwable> uncaught = harness.watchUncaught();
        ContainerLogs containerLogs = ContainerLogs.capture(harness);
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/fatal", (request, response) -> {
                    response.setHeader("X-Handler", "was here");
                    throw new OutOfMemoryError("fake oom");
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/fatal");

        assertThat(exchange.text()).as("what the client got (a bare 500 or an aborted connection)")
                .doesNotContain("fake oom", "OutOfMemoryError", "X-Handler");
        if (!exchange.text().isEmpty()) {
            assertThat(exchange.head()).startsWith("HTTP/1.1 500");
        }
        server.close(); // every request thread is done: nothing more can be logged
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "OutOfMemoryError"))
                .isEqualTo(1);

        List<String> stacks = new ArrayList<>();
        for (ILoggingEvent event : harness.logs().all()) {
            if (event.getThrowableProxy() != null) {
                stacks.add("backstop " + event.getLevel() + ": " + event.getFormattedMessage());
            }
        }
        containerLogs.withStack().forEach(line -> stacks.add("container " + line));
        uncaught.forEach(failure -> stacks.add("uncaught-exception handler: " + failure));
        assertThat(stacks).as("every stack logged").hasSize(1);
        assertThat(stacks.get(0)).startsWith("backstop ERROR: fatal error errorId=")
                .contains("exception=java.lang.OutOfMemoryError");
    }
}
