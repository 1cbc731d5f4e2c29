package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import dev.backstop.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Which container serves a response is read from the response itself, not guessed from {@code getServerInfo()}: a
 * server that does not call itself "jetty..." or "Apache Tomcat..." (Jetty's {@code Server.setServerInfo}; on
 * Tomcat, {@code server.info} in {@code ServerInfo.properties}, a step of the CIS hardening benchmark) keeps every
 * container path, and {@code sendError} then a throw is still answered by Backstop.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class ContainerStateIsReadNotGuessedTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    ContainerStateIsReadNotGuessedTest(Container container) {
        this.container = container;
    }

    @Test
    void aServerWithItsOwnServerInfoStillGetsBackstops500AfterSendErrorThenThrow() throws Exception {
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/jersey-style", (request, response) -> {
                    response.sendError(500, "Request failed.");
                    throw new IllegalStateException("thrown after sendError(500): secret hunter2");
                });
        // Tomcat reads server.info from its jar's ServerInfo.properties, once for the whole JVM: not set here.
        assumeTrue(server instanceof TestServer, "Jetty sets its server info per server");
        ((TestServer) server).context().getServer().setServerInfo("acme-gateway");
        server.start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/jersey-style");

        String errorId = Answers.assertProblemJson500(exchange);
        assertThat(exchange.text()).doesNotContain("hunter2", "Request failed.");
        Answers.assertOnePanicLine(harness, errorId);
    }
}
