package dev.backstop.testing;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.Servlet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.ErrorPage;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * A real embedded Tomcat 11 on a free loopback port, with one filter on the REQUEST, ASYNC and ERROR dispatches and
 * servlets given as lambdas, in a context at the root whose base and document directories live in a temporary
 * directory that {@link #close()} deletes. Tomcat's own start-up lines are silenced; its warnings and errors (an
 * exception the filter rethrows, say) still go to the test output.
 */
public final class TomcatServer implements ServletServer {

    private static final String FILTER_NAME = "backstop";

    private final Path baseDir;
    private final Tomcat tomcat = new Tomcat();
    private final Connector connector = new Connector("HTTP/1.1");
    private final Context context;
    private int servlets;
    private boolean closed;

    /** The filter given as an instance, as programmatic registration does. */
    public TomcatServer(Filter filter) {
        this(filter, null, Map.of(), Map.of());
    }

    /**
     * The filter given by class, created by the container with its no-arg constructor and configured from
     * {@code initParams}, as web.xml does; {@code contextAttributes} are set on the ServletContext by a
     * ServletContainerInitializer, before any filter is initialised, as an application's listener would.
     */
    public TomcatServer(Class<? extends Filter> filterClass, Map<String, String> initParams,
            Map<String, Object> contextAttributes) {
        this(null, filterClass, initParams, contextAttributes);
    }

    private TomcatServer(Filter filter, Class<? extends Filter> filterClass, Map<String, String> initParams,
            Map<String, Object> contextAttributes) {
        try {
            baseDir = Files.createTempDirectory("backstop-tomcat");
            Files.createDirectories(baseDir.resolve("docs"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        tomcat.setSilent(true);
        tomcat.setBaseDir(baseDir.toString());
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        context = tomcat.addContext("", baseDir.resolve("docs").toString());
        // These two leak checks only warn, on every stop, that they need --add-opens to run.
        ((StandardContext) context).setClearReferencesThreadLocals(false);
        ((StandardContext) context).setClearReferencesRmiTargets(false);
        if (!contextAttributes.isEmpty()) {
            context.addServletContainerInitializer((classes, servletContext) ->
                    contextAttributes.forEach(servletContext::setAttribute), null);
        }

        FilterDef definition = new FilterDef();
        definition.setFilterName(FILTER_NAME);
        if (filter != null) {
            definition.setFilter(filter);
            definition.setFilterClass(filter.getClass().getName());
        } else {
            definition.setFilterClass(filterClass.getName());
        }
        initParams.forEach(definition::addInitParameter);
        definition.setAsyncSupported("true");
        context.addFilterDef(definition);

        FilterMap mapping = new FilterMap();
        mapping.setFilterName(FILTER_NAME);
        mapping.addURLPattern("/*");
        for (DispatcherType type : new DispatcherType[] {
                DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR}) {
            mapping.setDispatcher(type.name());
        }
        context.addFilterMap(mapping);
    }

    public Context context() {
        return context;
    }

    @Override
    public TomcatServer route(String pathSpec, ServletServer.Handler handler) {
        if (tomcat.getServer().getState() != LifecycleState.NEW) {
            throw new IllegalStateException("add routes before start()");
        }
        String name = "servlet-" + servlets++;
        Wrapper wrapper = Tomcat.addServlet(context, name, ServletServer.servlet(handler));
        wrapper.setAsyncSupported(true);
        context.addServletMappingDecoded(pathSpec, name);
        return this;
    }

    @Override
    public TomcatServer servlet(String pathSpec, Servlet servlet) {
        checkNotStarted();
        String name = "servlet-" + servlets++;
        Wrapper wrapper = Tomcat.addServlet(context, name, servlet);
        wrapper.setAsyncSupported(true);
        context.addServletMappingDecoded(pathSpec, name);
        return this;
    }

    @Override
    public TomcatServer outerFilter(Filter filter) {
        checkNotStarted();
        String name = "outer-" + System.identityHashCode(filter);
        FilterDef definition = new FilterDef();
        definition.setFilterName(name);
        definition.setFilter(filter);
        definition.setFilterClass(filter.getClass().getName());
        definition.setAsyncSupported("true");
        context.addFilterDef(definition);
        FilterMap mapping = new FilterMap();
        mapping.setFilterName(name);
        mapping.addURLPattern("/*");
        for (DispatcherType type : new DispatcherType[] {
                DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR}) {
            mapping.setDispatcher(type.name());
        }
        context.addFilterMapBefore(mapping);
        return this;
    }

    @Override
    public TomcatServer errorPage(String location) {
        ErrorPage page = new ErrorPage(); // neither a code nor an exception type: the default page
        page.setLocation(location);
        context.addErrorPage(page);
        return this;
    }

    @Override
    public TomcatServer errorPage(Class<? extends Throwable> type, String location) {
        ErrorPage page = new ErrorPage();
        page.setExceptionType(type.getName());
        page.setLocation(location);
        context.addErrorPage(page);
        return this;
    }

    @Override
    public TomcatServer errorPage(int status, String location) {
        ErrorPage page = new ErrorPage();
        page.setErrorCode(status);
        page.setLocation(location);
        context.addErrorPage(page);
        return this;
    }

    /**
     * Caps the connector's request threads at {@code threads}: with one, every request runs on the same thread,
     * whatever connection it came on (Tomcat closes the connection after a 500, so pipelining cannot show that).
     */
    public TomcatServer maxThreads(int threads) {
        checkNotStarted();
        connector.setProperty("maxThreads", String.valueOf(threads));
        connector.setProperty("minSpareThreads", String.valueOf(threads));
        return this;
    }

    private void checkNotStarted() {
        if (tomcat.getServer().getState() != LifecycleState.NEW) {
            throw new IllegalStateException("configure the server before start()");
        }
    }

    @Override
    public TomcatServer start() throws Exception {
        tomcat.start();
        if (connector.getState() != LifecycleState.STARTED || connector.getLocalPort() <= 0) {
            throw new IllegalStateException("Tomcat's connector did not start: " + connector.getStateName());
        }
        return this;
    }

    @Override
    public int port() {
        return connector.getLocalPort();
    }

    /** Stops Tomcat and deletes its directory; a second call does nothing. */
    @Override
    public void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        try {
            tomcat.stop();
            tomcat.destroy();
        } finally {
            try (Stream<Path> files = Files.walk(baseDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }
}
