package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import dev.backstop.testing.TestServer;
import dev.backstop.testing.TomcatServer;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two RecoveryFilters in one chain (a library's and the application's), with an ordinary filter between them: the
 * inner filter's exit is not the end of the request, so a group the middle filter opened keeps running until the
 * middle filter is done with it, and the request ends once, at the outermost filter.
 */
class NestedRecoveryFiltersTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();

    enum Backstops { SAME, DIFFERENT }

    /** Adds {@code filter} after the ones already mapped, on REQUEST, ASYNC and ERROR. */
    private static void addFilter(ServletServer server, String name, Filter filter) {
        if (server instanceof TestServer jetty) {
            FilterHolder holder = new FilterHolder(filter);
            holder.setName(name);
            holder.setAsyncSupported(true);
            jetty.context().addFilter(holder, "/*",
                    EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
        } else {
            TomcatServer tomcat = (TomcatServer) server;
            FilterDef definition = new FilterDef();
            definition.setFilterName(name);
            definition.setFilter(filter);
            definition.setFilterClass(filter.getClass().getName());
            definition.setAsyncSupported("true");
            tomcat.context().addFilterDef(definition);
            FilterMap mapping = new FilterMap();
            mapping.setFilterName(name);
            mapping.addURLPattern("/*");
            for (DispatcherType type : EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC,
                    DispatcherType.ERROR)) {
                mapping.setDispatcher(type.name());
            }
            tomcat.context().addFilterMap(mapping);
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(Container.values()).flatMap(c -> Stream.of(Backstops.values()).map(b -> Arguments.of(c, b)));
    }

    @ParameterizedTest(name = "{0}, {1} Backstop")
    @MethodSource("cases")
    void aGroupOpenedBetweenTwoRecoveryFiltersOutlivesTheInnerFiltersExit(Container container, Backstops backstops)
            throws Exception {
        RecoveryFilter outer;
        RecoveryFilter inner;
        if (backstops == Backstops.SAME) {
            Backstop shared = harness.closeAfter(Backstop.builder().name("shared-" + container)
                    .meterRegistry(harness.registry()).build());
            outer = RecoveryFilter.builder().backstop(shared).build();
            inner = RecoveryFilter.builder().backstop(shared).build();
        } else {
            outer = harness.filter().build();
            inner = harness.filter().build();
        }
        AtomicReference<Throwable> middleSaw = new AtomicReference<>();
        // An application filter between the two: it starts an audit task before the chain and waits for it after,
        // as a filter that overlaps its own I/O with the handler's would.
        Filter middle = (request, response, chain) -> {
            CountDownLatch chainDone = new CountDownLatch(1);
            try (ChildTasks tasks = ChildTasks.builder(request).name("audit").open()) {
                tasks.go("audit-write", chainDone::await);
                chain.doFilter(request, response);
                chainDone.countDown();
                tasks.await();
            } catch (RuntimeException e) {
                middleSaw.set(e);
                throw e;
            }
        };
        ServletServer server = harness.server(container, outer);
        addFilter(server, "middle", middle);
        addFilter(server, "inner", inner);
        server.route("/ok", (request, response) -> response.getWriter().write("ok")).start();

        HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri("/ok"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());

        String what = container + ", " + backstops + " Backstop";
        assertThat(middleSaw.get()).as(what + ": what the middle filter's group threw").isNull();
        assertThat(response.statusCode()).as(what).isEqualTo(200);
        assertThat(harness.logs().at(Level.WARN)).as(what + ": leak WARN lines")
                .noneSatisfy(line -> assertThat(line.getFormattedMessage()).contains("leaked"));
        assertThat(harness.total("backstop.leaked.groups")).as(what).isZero();
        assertThat(harness.total("backstop.panics")).as(what).isZero();
    }
}
