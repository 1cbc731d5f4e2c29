package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.backstop.testing.Container;
import dev.backstop.testing.Harness;
import dev.backstop.testing.ServletServer;
import dev.backstop.testing.TestServer;
import dev.backstop.testing.TomcatServer;
import io.restassured.path.json.JsonPath;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.EnumSet;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Frameworks that put request attributes back as they were after a piece of work (Spring MVC's
 * {@code DispatcherServlet} around an include), and request wrappers that keep attributes set through them, cannot
 * lose the request's context: a child's panic rethrown by its handler is still reported once, with the child's error
 * id, and the group still ends with the request.
 */
class RequestAttributesRestoredTest {

    @RegisterExtension
    final Harness harness = new Harness();

    private final HttpClient client = HttpClient.newHttpClient();

    enum Framework { INCLUDE_RESTORING, LOCAL_ATTRIBUTES }

    /** Keeps attributes set through it to itself; reads fall through to the request it wraps. */
    static final class LocalAttributes extends HttpServletRequestWrapper {
        private final Map<String, Object> local = new ConcurrentHashMap<>();

        LocalAttributes(HttpServletRequest request) {
            super(request);
        }

        @Override
        public Object getAttribute(String name) {
            Object value = local.get(name);
            return value != null ? value : super.getAttribute(name);
        }

        @Override
        public void setAttribute(String name, Object value) {
            local.put(name, value);
        }

        @Override
        public void removeAttribute(String name) {
            local.remove(name);
        }
    }

    /** What DispatcherServlet.doService does around an include (snapshot, then restoreAttributesAfterInclude). */
    static void includeTarget(HttpServletRequest request, Runnable work) {
        Map<String, Object> snapshot = new HashMap<>();
        for (Enumeration<String> names = request.getAttributeNames(); names.hasMoreElements(); ) {
            String name = names.nextElement();
            snapshot.put(name, request.getAttribute(name));
        }
        try {
            work.run();
        } finally {
            Set<String> check = new HashSet<>(Collections.list(request.getAttributeNames()));
            check.addAll(snapshot.keySet());
            for (String name : check) {
                Object value = snapshot.get(name);
                if (value == null) {
                    request.removeAttribute(name);
                } else if (value != request.getAttribute(name)) {
                    request.setAttribute(name, value);
                }
            }
        }
    }

    private static void childPanicRethrown(HttpServletRequest request) {
        try (ChildTasks tasks = ChildTasks.builder(request).name("widgets").open()) {
            tasks.go("price", () -> {
                throw new IllegalStateException("price service broke");
            });
            tasks.await(); // throws ChildTaskException: the child's panic, already logged and counted
        }
    }

    private static void addFilter(ServletServer server, Filter filter) {
        if (server instanceof TestServer jetty) {
            FilterHolder holder = new FilterHolder(filter);
            holder.setAsyncSupported(true);
            jetty.context().addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST));
        } else {
            FilterDef definition = new FilterDef();
            definition.setFilterName("local-attributes");
            definition.setFilter(filter);
            definition.setFilterClass(filter.getClass().getName());
            definition.setAsyncSupported("true");
            ((TomcatServer) server).context().addFilterDef(definition);
            FilterMap mapping = new FilterMap();
            mapping.setFilterName("local-attributes");
            mapping.addURLPattern("/*");
            mapping.setDispatcher(DispatcherType.REQUEST.name());
            ((TomcatServer) server).context().addFilterMap(mapping);
        }
    }

    @ParameterizedTest
    @EnumSource(Framework.class)
    void aChildPanicRethrownByItsHandlerIsOnePanicOnJetty(Framework framework) throws Exception {
        check(Container.JETTY, framework);
    }

    @ParameterizedTest
    @EnumSource(Framework.class)
    void aChildPanicRethrownByItsHandlerIsOnePanicOnTomcat(Framework framework) throws Exception {
        check(Container.TOMCAT, framework);
    }

    private void check(Container container, Framework framework) throws Exception {
        ServletServer server = harness.server(container, harness.filter().build());
        if (framework == Framework.LOCAL_ATTRIBUTES) {
            addFilter(server, (request, response, chain) ->
                    chain.doFilter(new LocalAttributes((HttpServletRequest) request), response));
            server.route("/page", (request, response) -> childPanicRethrown(request));
        } else {
            server.route("/page", (request, response) -> {
                response.getWriter(); // the page's own output, buffered
                request.getRequestDispatcher("/fragment").include(request, response);
            });
            server.route("/fragment", (request, response) -> includeTarget(request, () -> childPanicRethrown(request)));
        }
        server.start();

        HttpResponse<String> response = client.send(HttpRequest.newBuilder(server.uri("/page"))
                .header("Accept", "application/json").timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(500);
        List<ILoggingEvent> errors = harness.errors();
        assertThat(errors).as("ERROR lines: the child's panic, once").hasSize(1);
        assertThat(harness.total("backstop.panics")).as("backstop.panics").isEqualTo(1.0);
        String errorId = JsonPath.from(response.body()).getString("errorId");
        assertThat(errors.get(0).getFormattedMessage()).contains("errorId=" + errorId).contains("source=child");
    }
}
