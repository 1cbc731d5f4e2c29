package dev.backstop.scratch;

import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.RawHttp;
import dev.backstop.testing.ServletServer;
import jakarta.servlet.DispatcherType;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ScratchProbe4Test {
    @RegisterExtension
    final Harness harness = new Harness();

    @Test
    void asyncCommitted() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ServletServer server = harness.server(Container.TOMCAT, harness.filter().build());
        server.route("/committed", (request, response) -> {
            System.out.println("PROBE call " + calls.incrementAndGet() + " " + request.getDispatcherType() + " async=" + request.isAsyncStarted());
            if (request.getDispatcherType() == DispatcherType.REQUEST) {
                request.startAsync().dispatch();
                return;
            }
            response.getOutputStream().write("partial-body".getBytes(StandardCharsets.US_ASCII));
            response.getOutputStream().flush();
            new Exception("PROBE stack of the ASYNC call").printStackTrace(System.out);
            throw new IllegalStateException("broke halfway");
        });
        server.start();
        RawHttp.Exchange ex = RawHttp.get(server.port(), "/committed", true);
        System.out.println("PROBE client " + ex.text().replace("\r\n","|") + " " + ex.ending());
    }
}
