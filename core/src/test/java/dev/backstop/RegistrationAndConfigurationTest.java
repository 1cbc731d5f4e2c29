package dev.backstop;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backstop.testing.Harness;
import io.restassured.response.Response;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The filter registered the ways users register it: a real web.xml, and a FilterHolder with init-params. */
class RegistrationAndConfigurationTest {

    /** A servlet that fails, deployable by class name from web.xml. */
    public static class PanicServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) {
            throw new UnsupportedOperationException("not built yet");
        }
    }

    /** A responder deployable by class name from an init-param. */
    public static class TeapotResponder implements ErrorResponder {
        @Override
        public void respond(HttpServletRequest request, HttpServletResponse response, Failure failure)
                throws IOException {
            response.setContentType("text/plain");
            response.getWriter().write("custom " + failure.errorId());
        }
    }

    @RegisterExtension
    final Harness harness = new Harness();

    private Server server;

    @TempDir
    Path webappDir;

    private int start(Handler handler) throws Exception {
        server = harness.plainJetty(handler);
        return Harness.port(server);
    }

    private WebAppContext webApp(String initParams) throws IOException {
        Files.createDirectories(webappDir.resolve("WEB-INF"));
        Files.writeString(webappDir.resolve("WEB-INF/web.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
                  <filter>
                    <filter-name>backstop</filter-name>
                    <filter-class>dev.backstop.RecoveryFilter</filter-class>
                    <async-supported>true</async-supported>
                    %s
                  </filter>
                  <filter-mapping>
                    <filter-name>backstop</filter-name>
                    <url-pattern>/*</url-pattern>
                    <dispatcher>REQUEST</dispatcher>
                    <dispatcher>ASYNC</dispatcher>
                    <dispatcher>ERROR</dispatcher>
                  </filter-mapping>
                  <servlet>
                    <servlet-name>panic</servlet-name>
                    <servlet-class>dev.backstop.RegistrationAndConfigurationTest$PanicServlet</servlet-class>
                  </servlet>
                  <servlet-mapping>
                    <servlet-name>panic</servlet-name>
                    <url-pattern>/panic</url-pattern>
                  </servlet-mapping>
                </web-app>
                """.formatted(initParams));
        WebAppContext webApp = new WebAppContext();
        webApp.setContextPath("/app");
        webApp.setBaseResourceAsPath(webappDir);
        webApp.setParentLoaderPriority(true);
        webApp.setThrowUnavailableOnStartupException(true);
        return webApp;
    }

    private static String param(String name, String value) {
        return "<init-param><param-name>" + name + "</param-name><param-value>" + value + "</param-value></init-param>";
    }

    @Test
    void webXmlRegistrationFindsTheRegistryThroughMeterRegistryAttribute() throws Exception {
        WebAppContext webApp = webApp(param("meter-registry-attribute", "app.metrics")
                + param("expose-stack-traces", "true"));
        webApp.setAttribute("app.metrics", harness.registry());

        Response response = given().port(start(webApp)).get("/app/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("application/problem+json");
        assertThat(response.jsonPath().getString("exception")).isEqualTo("java.lang.UnsupportedOperationException");
        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.errors().get(0).getFormattedMessage()).contains("method=GET path=/app/panic");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception",
                "UnsupportedOperationException")).isEqualTo(1.0);
    }

    @Test
    void webXmlRegistrationUsesAnErrorResponderNamedByClass() throws Exception {
        WebAppContext webApp = webApp(param("error-responder", TeapotResponder.class.getName()));
        webApp.setAttribute(RecoveryFilter.DEFAULT_METER_REGISTRY_ATTRIBUTE, harness.registry());

        Response response = given().port(start(webApp)).get("/app/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.asString()).matches("custom [0-9a-f]{16}");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception",
                "UnsupportedOperationException")).isEqualTo(1.0);
    }

    @Test
    void programmaticRegistrationFindsTheRegistryUnderTheDefaultAttribute() throws Exception {
        ServletContextHandler context = new ServletContextHandler("/");
        context.setAttribute(RecoveryFilter.DEFAULT_METER_REGISTRY_ATTRIBUTE, harness.registry());
        context.addFilter(new FilterHolder(RecoveryFilter.class), "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new PanicServlet()), "/panic");

        Response response = given().port(start(context)).accept("text/plain").get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.contentType()).startsWith("text/plain");
        assertThat(response.asString()).doesNotContain("UnsupportedOperationException", "not built yet");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception",
                "UnsupportedOperationException")).isEqualTo(1.0);
    }

    /** Starts two child tasks under a cap of one: the second is refused with the setting's name. */
    public static class FanOutServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            String answer;
            try (ChildTasks tasks = ChildTasks.open(request)) {
                CountDownLatch release = new CountDownLatch(1);
                tasks.go(release::await);
                try {
                    tasks.go(() -> { });
                    answer = "started";
                } catch (RejectedExecutionException e) {
                    answer = e.getMessage();
                }
                release.countDown();
                tasks.await();
            }
            response.getWriter().write(answer);
        }
    }

    @Test
    void webXmlConfiguresTheChildTaskExecutorAndTheApplicationWideCap() throws Exception {
        WebAppContext webApp = webApp(param("child-task-executor-attribute", "app.executor")
                + param("max-child-tasks", "1") + param("background-grace-period", "250ms"));
        Files.writeString(webappDir.resolve("WEB-INF/web.xml"), Files.readString(webappDir.resolve("WEB-INF/web.xml"))
                .replace("</web-app>", """
                          <servlet>
                            <servlet-name>fanout</servlet-name>
                            <servlet-class>dev.backstop.RegistrationAndConfigurationTest$FanOutServlet</servlet-class>
                          </servlet>
                          <servlet-mapping>
                            <servlet-name>fanout</servlet-name>
                            <url-pattern>/fanout</url-pattern>
                          </servlet-mapping>
                        </web-app>"""));
        AtomicInteger executed = new AtomicInteger();
        Executor executor = command -> {
            executed.incrementAndGet();
            new Thread(command, "app-executor").start();
        };
        webApp.setAttribute("app.executor", executor);
        webApp.setAttribute(RecoveryFilter.DEFAULT_METER_REGISTRY_ATTRIBUTE, harness.registry());

        Response response = given().port(start(webApp)).get("/app/fanout");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.asString()).startsWith("backstop: 1 child tasks are already running")
                .contains("init-param 'max-child-tasks'");
        assertThat(executed).hasValue(1);
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "rejected")).isEqualTo(1);
        assertThat(harness.count("backstop.tasks", "kind", "scoped", "outcome", "success")).isEqualTo(1);
    }

    @Test
    void theUncaughtHandlerInitParamInstallsAtDeployAndRestoresThePreviousHandlerAtUndeploy() throws Exception {
        Queue<Throwable> previousGot = harness.watchUncaught();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        WebAppContext webApp = webApp(param("uncaught-exception-handler", "true"));
        webApp.setAttribute(RecoveryFilter.DEFAULT_METER_REGISTRY_ATTRIBUTE, harness.registry());
        start(webApp);
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isNotSameAs(previous);

        Thread raw = new Thread(() -> {
            throw new IllegalStateException("a raw thread of the web application died");
        });
        raw.start();
        raw.join();
        assertThat(harness.count("backstop.panics", "source", "thread")).isEqualTo(1);
        assertThat(previousGot).singleElement().satisfies(failure -> assertThat(failure)
                .hasMessage("a raw thread of the web application died"));

        server.stop(); // undeploys the web application
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).as("undeploy restores the handler from before")
                .isSameAs(previous);
    }

    @Test
    void theUncaughtHandlerIsNotInstalledByDefault() throws Exception {
        Thread.UncaughtExceptionHandler saved = Thread.getDefaultUncaughtExceptionHandler();
        WebAppContext webApp = webApp("");
        webApp.setAttribute(RecoveryFilter.DEFAULT_METER_REGISTRY_ATTRIBUTE, harness.registry());
        start(webApp);
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isSameAs(saved);
    }

    @Test
    void aFilterBuiltFromABackstopReportsThroughItsPipeline() throws Exception {
        Backstop backstop = Backstop.builder().meterRegistry(harness.registry()).logStormInterval(Duration.ZERO)
                .build();
        ServletContextHandler context = new ServletContextHandler("/");
        context.addFilter(new FilterHolder(RecoveryFilter.builder().backstop(backstop).build()), "/*",
                EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new PanicServlet()), "/panic");

        assertThat(given().port(start(context)).get("/panic").statusCode()).isEqualTo(500);
        assertThat(harness.count("backstop.panics", "source", "handler")).isEqualTo(1);
        assertThatThrownBy(() -> RecoveryFilter.builder().backstop(backstop).meterRegistry(harness.registry())
                .build()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("set meterRegistry on the Backstop");
    }

    @Test
    void builderSettingsWinOverInitParams() throws Exception {
        ServletContextHandler context = new ServletContextHandler("/");
        FilterHolder holder = new FilterHolder(
                harness.filter().exposeStackTraces(false).build());
        holder.setInitParameters(Map.of("expose-stack-traces", "true", "problem-type", "https://example.test/oops"));
        context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new PanicServlet()), "/panic");

        Response response = given().port(start(context)).get("/panic");

        assertThat(response.asString()).doesNotContain("UnsupportedOperationException");
        assertThat(response.jsonPath().getString("type")).isEqualTo("https://example.test/oops");
        assertThat(harness.count("backstop.panics", "source", "handler", "exception",
                "UnsupportedOperationException")).isEqualTo(1.0);
    }

    @Test
    void twoRecoveryFiltersInOneChainReportAFatalErrorOnce() throws Exception {
        ServletContextHandler context = new ServletContextHandler("/");
        for (int i = 0; i < 2; i++) {
            context.addFilter(new FilterHolder(harness.filter().build()), "/*",
                    EnumSet.of(DispatcherType.REQUEST));
        }
        context.addServlet(new ServletHolder(new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) {
                throw new OutOfMemoryError("simulated");
            }
        }), "/oom");

        given().port(start(context)).get("/oom").then().statusCode(500);

        assertThat(harness.errors()).hasSize(1);
        assertThat(harness.count("backstop.panics", "source", "handler", "exception", "OutOfMemoryError"))
                .isEqualTo(1.0);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "expose-stack-traces | yes | Init-param 'expose-stack-traces' must be true or false, but was 'yes'",
        "meter-registry-attribute | missing.registry | Init-param 'meter-registry-attribute' is 'missing.registry', but that ServletContext attribute is not set",
        "error-responder | com.example.NoSuchResponder | Init-param 'error-responder' is 'com.example.NoSuchResponder', which cannot be instantiated",
        "error-responder | java.lang.String | Init-param 'error-responder' must name a class that implements dev.backstop.ErrorResponder, but 'java.lang.String' does not",
        "problem-type | not a uri | Init-param 'problem-type' must be an absolute URI, but was 'not a uri'",
        "max-child-tasks | 0 | Init-param 'max-child-tasks' must be a whole number of at least 1, but was '0'",
        "max-child-tasks | lots | Init-param 'max-child-tasks' must be a whole number of at least 1, but was 'lots'",
        "background-grace-period | soon | Init-param 'background-grace-period' must be a duration such as 500ms, 10s, 1m or PT10S, not negative, but was 'soon'",
        "background-grace-period | -5s | Init-param 'background-grace-period' must be a duration such as 500ms, 10s, 1m or PT10S, not negative, but was '-5s'",
        "log-storm-interval | soon | Init-param 'log-storm-interval' must be a duration such as 0, 500ms, 10s, 1m or PT10S, not negative, but was 'soon'",
        "log-storm-interval | -1s | Init-param 'log-storm-interval' must be a duration such as 0, 500ms, 10s, 1m or PT10S, not negative, but was '-1s'",
        "uncaught-exception-handler | maybe | Init-param 'uncaught-exception-handler' must be true or false, but was 'maybe'",
        "child-task-executor-attribute | app.nothing | Init-param 'child-task-executor-attribute' is 'app.nothing', but that ServletContext attribute is not set",
    })
    void badInitParamFailsStartupNamingTheParamAndTheValue(String name, String value, String message)
            throws Exception {
        WebAppContext webApp = webApp(param(name, value));

        assertThatThrownBy(() -> start(webApp))
                .satisfies(failure -> assertThat(causeMessages(failure)).contains(message));
    }

    private static String causeMessages(Throwable failure) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            all.append(t.getMessage()).append('\n');
            for (Throwable suppressed : t.getSuppressed()) {
                all.append(causeMessages(suppressed));
            }
        }
        return all.toString();
    }
}
