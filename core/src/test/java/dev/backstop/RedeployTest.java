package dev.backstop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.redeploy.Leaks;
import dev.backstop.redeploy.WebAppServer;
import dev.backstop.redeploy.WebAppServer.Deployment;
import dev.backstop.redeploy.WebApps;
import dev.backstop.redeploy.app.GuardedWork;
import dev.backstop.redeploy.app.HeldChildTask;
import dev.backstop.redeploy.app.Hello;
import dev.backstop.redeploy.app.LongLivedBackstop;
import dev.backstop.testing.RawHttp;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.Servlet;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * Backstop inside web applications that are deployed and undeployed while the server runs, as a container does it:
 * a real Jetty {@code WebAppContext} per deployment, whose child-first class loader defines its own copy of
 * backstop-core from {@code WEB-INF/lib} and the application's classes from {@code WEB-INF/classes}; the servlet
 * API, Micrometer and SLF4J come from the server. Undeploying must let the application's class loader be collected
 * and leave no thread behind. The control application, which does not use Backstop, shows that the server and this
 * test leak nothing by themselves.
 *
 * <p>What undeploying must leave is checked by {@link Leaks}: a weak reference to each application's class loader
 * must be cleared under {@code System.gc()}, and no thread started during the test may outlive it but the server's
 * own. So that only the applications can hold their loaders, the test keeps no context, servlet, class or loader of
 * theirs (a deployment is a context path and a weak reference once deployed), captures no log events, and hands
 * the applications JDK or server types only ({@code CountDownLatch}, {@code MeterRegistry}).
 */
class RedeployTest {

    private static final int CYCLES = 8;
    private static final String SERVER_REGISTRY_ATTRIBUTE = "redeploy.serverMeterRegistry";
    private static final String ACTIVE_TASKS = "backstop.tasks.active";
    private static final String HELLO = """
            <servlet>
              <servlet-name>hello</servlet-name>
              <servlet-class>dev.backstop.redeploy.app.Hello</servlet-class>
            </servlet>
            <servlet-mapping>
              <servlet-name>hello</servlet-name>
              <url-pattern>/hello</url-pattern>
            </servlet-mapping>
            """;

    @TempDir
    Path webapps;

    private final List<Deployment> undeployed = new ArrayList<>();
    private Thread.UncaughtExceptionHandler handlerBefore;
    private Set<Thread> threadsBefore;
    private WebAppServer server;

    @BeforeEach
    void startServer() throws Exception {
        handlerBefore = Thread.getDefaultUncaughtExceptionHandler();
        threadsBefore = Leaks.threadsNow();
        server = new WebAppServer().start();
    }

    @AfterEach
    void stopServer() throws Exception {
        try {
            server.close();
        } finally {
            // A failed test must not hand a chain of dead applications' handlers to the tests after it.
            Thread.setDefaultUncaughtExceptionHandler(handlerBefore);
        }
    }

    /**
     * The control: the same server, deployments and checks, an application that has backstop-core in
     * {@code WEB-INF/lib} and does not use it. It must pass whatever Backstop does: if it fails, the harness leaks.
     */
    @Test
    void undeployedApplicationsWithoutBackstopLeaveNoLoaderAndNoThread() throws Exception {
        Path war = WebApps.create(webapps, "control", HELLO);

        for (int cycle = 1; cycle <= CYCLES; cycle++) {
            Deployment app = deploy("/control", "/control #" + cycle, war, Map.of(),
                    Hello.class, Backstop.class);
            assertThat(get("/control/hello")).isEqualTo("hello");
            undeploy(app);
        }

        Leaks.assertNothingLeftOf(undeployed, threadsBefore, () -> "");
    }

    /**
     * One Backstop for the application's lifetime, in a static field, built at startup with a guarded pool that the
     * application shuts down at undeploy; the application submits callables, some of which fail with a checked
     * exception nobody reads, and serves another request. (On JDK 17 a thread started from application code
     * inherits an access-control context holding the application's protection domains, so its class loader; from
     * JDK 24 on, threads carry none.)
     */
    @Test
    void undeployedApplicationsWithALongLivedBackstopLeaveNoLoaderAndNoThread() throws Exception {
        Path war = WebApps.create(webapps, "long-lived", """
                <listener>
                  <listener-class>dev.backstop.redeploy.app.LongLivedBackstop</listener-class>
                </listener>
                <servlet>
                  <servlet-name>work</servlet-name>
                  <servlet-class>dev.backstop.redeploy.app.GuardedWork</servlet-class>
                </servlet>
                <servlet-mapping>
                  <servlet-name>work</servlet-name>
                  <url-pattern>/work</url-pattern>
                </servlet-mapping>
                """ + HELLO);

        for (int cycle = 1; cycle <= CYCLES; cycle++) {
            Deployment app = deploy("/app", "/app #" + cycle, war, Map.of(),
                    Backstop.class, LongLivedBackstop.class, GuardedWork.class);
            assertThat(get("/app/work")).isEqualTo("first second");
            assertThat(get("/app/hello")).isEqualTo("hello");
            undeploy(app);
        }

        Leaks.assertNothingLeftOf(undeployed, threadsBefore, () -> "");
    }

    /**
     * RecoveryFilter from web.xml installing the JVM-wide uncaught-exception handler, with versions deployed side by
     * side: each new version starts before the old ones go. An undeployed version must be collectable while a newer
     * one still runs (and has its handler installed), the last one once it goes too, and then the default handler
     * must be the one from before.
     */
    @Test
    void overlappingVersionsInstallingTheUncaughtHandlerAreEachCollectableOnceUndeployed() throws Exception {
        Path war = WebApps.create(webapps, "uncaught", """
                <filter>
                  <filter-name>backstop</filter-name>
                  <filter-class>dev.backstop.RecoveryFilter</filter-class>
                  <init-param>
                    <param-name>uncaught-exception-handler</param-name>
                    <param-value>true</param-value>
                  </init-param>
                </filter>
                <filter-mapping>
                  <filter-name>backstop</filter-name>
                  <url-pattern>/*</url-pattern>
                </filter-mapping>
                """ + HELLO);

        List<Deployment> versions = new ArrayList<>();
        for (int version = 1; version <= 4; version++) {
            // Each version reports to a registry of its own, which goes with it: only the handler chain is shared.
            versions.add(deploy("/v" + version, "/v" + version, war,
                    Map.of(RecoveryFilter.DEFAULT_METER_REGISTRY_ATTRIBUTE, new SimpleMeterRegistry()),
                    RecoveryFilter.class, Hello.class));
        }
        for (Deployment version : versions) {
            assertThat(get(version.contextPath() + "/hello")).isEqualTo("hello");
        }
        for (Deployment old : versions.subList(0, 3)) {
            undeploy(old);
        }

        Leaks.assertNothingLeftOf(versions.subList(0, 3), threadsBefore,
                () -> "while /v4 is deployed, " + defaultHandler(versions));
        assertThat(get("/v4/hello")).isEqualTo("hello");

        undeploy(versions.get(3));

        Leaks.assertNothingLeftOf(versions, threadsBefore, () -> "once /v4 is gone too, " + defaultHandler(versions));
        assertThat(Thread.getDefaultUncaughtExceptionHandler())
                .as("the default uncaught-exception handler once every version is undeployed: %s",
                        defaultHandler(versions))
                .isSameAs(handlerBefore);
    }

    /**
     * A meter registry the server owns (created outside the applications), named by RecoveryFilter's
     * {@code meter-registry-attribute} in two applications at /a and /b. Each application's running tasks are told
     * apart by the tag {@code backstop}, its context path; and neither application may stay pinned by the registry
     * once undeployed.
     */
    @Test
    void applicationsSharingTheServersRegistryCountTheirOwnTasksAndAreCollectableOnceUndeployed() throws Exception {
        MeterRegistry serverRegistry = new SimpleMeterRegistry();
        Path war = WebApps.create(webapps, "shared-registry", """
                <filter>
                  <filter-name>backstop</filter-name>
                  <filter-class>dev.backstop.RecoveryFilter</filter-class>
                  <async-supported>true</async-supported>
                  <init-param>
                    <param-name>meter-registry-attribute</param-name>
                    <param-value>%s</param-value>
                  </init-param>
                </filter>
                <filter-mapping>
                  <filter-name>backstop</filter-name>
                  <url-pattern>/*</url-pattern>
                  <dispatcher>REQUEST</dispatcher>
                  <dispatcher>ASYNC</dispatcher>
                  <dispatcher>ERROR</dispatcher>
                </filter-mapping>
                <servlet>
                  <servlet-name>task</servlet-name>
                  <servlet-class>dev.backstop.redeploy.app.HeldChildTask</servlet-class>
                  <async-supported>true</async-supported>
                </servlet>
                <servlet-mapping>
                  <servlet-name>task</servlet-name>
                  <url-pattern>/task</url-pattern>
                </servlet-mapping>
                """.formatted(SERVER_REGISTRY_ATTRIBUTE));

        List<String> wrongReadings = new ArrayList<>();
        for (int cycle = 1; cycle <= CYCLES; cycle++) {
            Deployment a = deploy("/a", "/a #" + cycle, war, Map.of(SERVER_REGISTRY_ATTRIBUTE, serverRegistry,
                            HeldChildTask.STARTED, new CountDownLatch(1), HeldChildTask.RELEASE, new CountDownLatch(0)),
                    RecoveryFilter.class, ChildTasks.class, HeldChildTask.class);
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Deployment b = deploy("/b", "/b #" + cycle, war, Map.of(SERVER_REGISTRY_ATTRIBUTE, serverRegistry,
                            HeldChildTask.STARTED, started, HeldChildTask.RELEASE, release),
                    RecoveryFilter.class, ChildTasks.class, HeldChildTask.class);

            assertThat(get("/a/task")).as("/a's child task, which is not held").isEqualTo("done");
            String readings = whileTheTaskIsHeld("/b/task", started, release, () -> activeTasks(serverRegistry));
            if (!readings.equals(expectedReadings())) {
                wrongReadings.add("#" + cycle + ": " + readings);
            }

            undeploy(a);
            undeploy(b);
        }

        SoftAssertions softly = new SoftAssertions();
        softly.assertThat(wrongReadings)
                .as("with a child task running in /b and none in /a, the running tasks of each application: "
                        + "expected %s in every cycle, but these cycles read otherwise", expectedReadings())
                .isEmpty();
        softly.check(() -> Leaks.assertNothingLeftOf(undeployed, threadsBefore,
                () -> "the server's registry holds " + ACTIVE_TASKS + " " + allGauges(serverRegistry)));
        softly.assertAll();
    }

    /**
     * Deploys, then checks that the application really runs on its own copies: {@code appClasses} defined by its
     * web-app loader, the servlet API, Micrometer and SLF4J the server's.
     */
    private Deployment deploy(String contextPath, String label, Path war, Map<String, Object> attributes,
            Class<?>... appClasses) throws Exception {
        Deployment deployment = server.deploy(contextPath, label, war, attributes);
        for (Class<?> own : appClasses) {
            assertThat(server.whoDefines(contextPath, own.getName()))
                    .as("who defines %s in %s", own.getName(), label).isEqualTo("web-app");
        }
        for (Class<?> shared : List.of(Servlet.class, MeterRegistry.class, Logger.class)) {
            assertThat(server.whoDefines(contextPath, shared.getName()))
                    .as("who defines %s in %s", shared.getName(), label).isEqualTo("server");
        }
        return deployment;
    }

    private void undeploy(Deployment deployment) throws Exception {
        server.undeploy(deployment.contextPath());
        undeployed.add(deployment);
    }

    /** The body of a 200 answer to a GET. */
    private String get(String path) throws Exception {
        RawHttp.Exchange exchange = RawHttp.get(server.port(), path);
        assertThat(exchange.head()).as("GET %s", path).startsWith("HTTP/1.1 200");
        return exchange.body();
    }

    /**
     * Sends a GET to a {@link HeldChildTask}, reads {@code what} while its child task runs, then lets the task finish
     * and checks that the request ends well.
     */
    private <T> T whileTheTaskIsHeld(String path, CountDownLatch started, CountDownLatch release, Supplier<T> what)
            throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            T value;
            try {
                assertThat(started.await(10, TimeUnit.SECONDS)).as("the child task of %s started", path).isTrue();
                value = what.get();
            } finally {
                release.countDown();
            }
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).as("GET %s", path).startsWith("HTTP/1.1 200").endsWith("done");
            return value;
        }
    }

    private static String expectedReadings() {
        return "/a=0.0, /b=1.0";
    }

    /** What the scoped active-task gauges of /a and /b read, as {@link #expectedReadings()}, or all the gauges. */
    private static String activeTasks(MeterRegistry registry) {
        Gauge a = registry.find(ACTIVE_TASKS).tags("backstop", "/a", "kind", "scoped").gauge();
        Gauge b = registry.find(ACTIVE_TASKS).tags("backstop", "/b", "kind", "scoped").gauge();
        if (a != null && b != null) {
            return "/a=" + a.value() + ", /b=" + b.value();
        }
        return "no gauge tagged backstop=/a and /b; the registry's " + ACTIVE_TASKS + " gauges read "
                + allGauges(registry);
    }

    private static String allGauges(MeterRegistry registry) {
        return registry.find(ACTIVE_TASKS).gauges().stream()
                .map(gauge -> gauge.getId().getTags().stream().map(tag -> tag.getKey() + "=" + tag.getValue())
                        .collect(Collectors.joining(",", "{", "}")) + "=" + gauge.value())
                .sorted()
                .collect(Collectors.joining(", ", "[", "]"));
    }

    /** Which application, if any, the current default uncaught-exception handler belongs to. */
    private String defaultHandler(List<Deployment> versions) {
        Thread.UncaughtExceptionHandler handler = Thread.getDefaultUncaughtExceptionHandler();
        if (handler == handlerBefore) {
            return "the default uncaught-exception handler is the one from before the test";
        }
        ClassLoader loader = handler == null ? null : handler.getClass().getClassLoader();
        String owner = versions.stream().filter(d -> loader != null && d.loader().get() == loader)
                .map(Deployment::label).findFirst().orElse("none of the versions");
        return "the default uncaught-exception handler is " + (handler == null ? "null"
                : "a " + handler.getClass().getName() + " defined by the loader of " + owner);
    }
}
