package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.backstop.testing.Container;
import dev.backstop.testing.ContainerLogs;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A handler that called {@code request.upgrade(...)} (the response is now a 101, and the connection about to belong
 * to the upgrade handler) and then threw. The contract: log it once, count it, close the connection; never a 500
 * (the client asked to switch protocols, a 500 head on that connection is garbage to it). Jetty 12 today answers
 * with nothing, keeps the connection open and logs {@code onError not handled due to invalid requestState ...
 * rs=UPGRADING} in a loop (about 15,000 lines a second) until the server stops; Tomcat 11 sends the filter's 500
 * head and closes when the upgrade handler closes, or keeps the connection open when it does not.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class UpgradeThenThrowTest {

    /** An upgrade handler that does nothing: the connection stays open unless someone closes it. */
    public static class IdleUpgrade implements HttpUpgradeHandler {
        public IdleUpgrade() {
        }

        @Override
        public void init(WebConnection connection) {
        }

        @Override
        public void destroy() {
        }
    }

    /** An upgrade handler that closes the connection as soon as it gets it. */
    public static class ClosingUpgrade implements HttpUpgradeHandler {
        public ClosingUpgrade() {
        }

        @Override
        public void init(WebConnection connection) {
            try {
                connection.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void destroy() {
        }
    }

    private static final String UPGRADE_REQUEST = "GET /upgrade HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Connection: Upgrade\r\nUpgrade: test\r\n\r\n";

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    UpgradeThenThrowTest(Container container) {
        this.container = container;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(classes = {IdleUpgrade.class, ClosingUpgrade.class})
    void aThrowAfterUpgradeIsLoggedOnceAndTheConnectionClosedWithoutA500(Class<? extends HttpUpgradeHandler> handler)
            throws Exception {
        ContainerLogs containerLogs = ContainerLogs.captureQuietly(harness);
        ServletServer server = harness.server(container, harness.filter().build())
                .route("/upgrade", (request, response) -> {
                    request.upgrade(handler);
                    throw new IllegalStateException("failed after upgrade()");
                })
                .start();

        RawHttp.Exchange exchange = RawHttp.send(server.port(), UPGRADE_REQUEST);

        assertThat(exchange.text()).as("what the client got").doesNotContain("HTTP/1.1 500");
        assertThat(exchange.text().isEmpty() || exchange.text().startsWith("HTTP/1.1 101"))
                .as("a 101 head or nothing, but got:%n%s", exchange.text()).isTrue();
        assertThat(exchange.ending()).as("how the connection ended (read timeout 10 s)")
                .isIn(RawHttp.Ending.CLOSED, RawHttp.Ending.RESET);
        assertThat(exchange.elapsed()).as("closed within 5 s").isLessThan(Duration.ofSeconds(5));
        assertThat(harness.errors()).as("Backstop's ERROR lines").hasSize(1);
        assertThat(harness.errors().get(0).getFormattedMessage()).startsWith("panic ").contains("path=/upgrade");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "IllegalStateException"))
                .isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);

        assertTimeoutPreemptively(Duration.ofSeconds(20), server::close, "the server stops");
        assertThat(containerLogs.count()).as("WARN/ERROR lines the container logged; the first ones: %s",
                containerLogs.warningsAndErrors().stream().limit(3).toList()).isLessThan(20);
    }
}
