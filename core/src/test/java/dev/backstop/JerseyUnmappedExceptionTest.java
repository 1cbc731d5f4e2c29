package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.testing.Answers;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.glassfish.jersey.server.ResourceConfig;
import org.glassfish.jersey.servlet.ServletContainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Jersey 4 with its defaults (no {@code ExceptionMapper}) served by its {@code ServletContainer} behind
 * RecoveryFilter: a resource method that throws. Jersey answers an unmapped exception with
 * {@code sendError(500, "Request failed.")} and then rethrows it to the container, so the filter sees a failure on a
 * response whose {@code isCommitted()} is already true although nothing is on the wire. The client must get
 * Backstop's problem+json 500, counted and logged once.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Container.class)
class JerseyUnmappedExceptionTest {

    /** A JAX-RS resource whose method fails. */
    @Path("/orders")
    public static class Orders {
        @GET
        @Path("{id}")
        @Produces(MediaType.APPLICATION_JSON)
        public String order(@PathParam("id") String id) {
            throw new IllegalStateException("order " + id + " failed: secret hunter2");
        }

        @GET
        @Path("ok")
        @Produces(MediaType.APPLICATION_JSON)
        public String ok() {
            return "{\"ok\":true}";
        }
    }

    @RegisterExtension
    final Harness harness = new Harness();

    private final Container container;

    JerseyUnmappedExceptionTest(Container container) {
        this.container = container;
    }

    private ServletServer start() throws Exception {
        return harness.server(container, harness.filter().build())
                .servlet("/api/*", new ServletContainer(new ResourceConfig(Orders.class)))
                .start();
    }

    @Test
    void anUnmappedExceptionFromAResourceIsAnsweredWithBackstops500() throws Exception {
        ServletServer server = start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/api/orders/42");

        String errorId = Answers.assertProblemJson500(exchange);
        assertThat(exchange.text()).doesNotContain("IllegalStateException", "secret", "hunter2", "Request failed.");
        Answers.assertOnePanicLine(harness, errorId);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
        assertThat(harness.total("backstop.panics")).isEqualTo(1);
        assertThat(harness.count("backstop.responses", "outcome", "error", "reason", "panic")).isEqualTo(1);
        assertThat(harness.total("backstop.responses")).isEqualTo(1);
    }

    /** Jersey itself works on this container: the happy path through the same servlet and filter. */
    @Test
    void aResourceThatReturnsIsServedUntouched() throws Exception {
        ServletServer server = start();

        RawHttp.Exchange exchange = RawHttp.get(server.port(), "/api/orders/ok");

        assertThat(exchange.head()).startsWith("HTTP/1.1 200");
        assertThat(exchange.content()).isEqualTo("{\"ok\":true}");
        assertThat(harness.logs().all()).isEmpty();
    }
}
