package dev.backstop.redeploy;

import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

/**
 * A real Jetty 12 (ee10) server that deploys and undeploys {@link WebAppContext}s while it runs, as a container's
 * deployer does. It keeps a context only while it is deployed: once undeployed, the only thing left of it here is
 * a {@link WeakReference} to its class loader.
 */
public final class WebAppServer {

    /** Every thread of this server (its pool and its scheduler) has a name that starts with this. */
    public static final String THREAD_NAME_PREFIX = "redeploy-jetty";

    /** What is left of a deployed application: its context path and a weak reference to its class loader. */
    public record Deployment(String contextPath, String label, WeakReference<ClassLoader> loader) {
        public boolean collected() {
            return loader.get() == null;
        }
    }

    private final Server server;
    private final ServerConnector connector;
    private final ContextHandlerCollection contexts = new ContextHandlerCollection();
    private final Map<String, WebAppContext> deployed = new LinkedHashMap<>();

    public WebAppServer() {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName(THREAD_NAME_PREFIX);
        server = new Server(threads, new ScheduledExecutorScheduler(THREAD_NAME_PREFIX + "-scheduler", true), null);
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(contexts);
    }

    public WebAppServer start() throws Exception {
        server.start();
        return this;
    }

    public int port() {
        return connector.getLocalPort();
    }

    /** Whether {@code thread} is one of this server's own (pool or scheduler). */
    public static boolean owns(Thread thread) {
        return thread.getName().startsWith(THREAD_NAME_PREFIX);
    }

    /**
     * Deploys the exploded application in {@code war} at {@code contextPath}, with {@code attributes} set on its
     * ServletContext before it starts, the default child-first class loading, and startup failures thrown here.
     */
    public Deployment deploy(String contextPath, String label, Path war, Map<String, Object> attributes)
            throws Exception {
        if (deployed.containsKey(contextPath)) {
            throw new IllegalStateException(contextPath + " is already deployed");
        }
        WebAppContext context = new WebAppContext();
        context.setContextPath(contextPath);
        context.setWar(war.toString());
        context.setParentLoaderPriority(false);
        context.setThrowUnavailableOnStartupException(true);
        attributes.forEach(context::setAttribute);
        contexts.addHandler(context);
        deployed.put(contextPath, context);
        if (!context.isStarted()) {
            context.start();
        }
        if (!context.isAvailable()) {
            throw new IllegalStateException(contextPath + " did not start");
        }
        return new Deployment(contextPath, label, new WeakReference<>(context.getClassLoader()));
    }

    /**
     * Who defined the class named {@code className}, as the application at {@code contextPath} resolves it:
     * {@code "web-app"} when its own loader defined it, {@code "server"} when it is the very class the server (this
     * test's class path) has, anything else otherwise. No reference to the class or the loader leaves this method.
     */
    public String whoDefines(String contextPath, String className) throws ClassNotFoundException {
        ClassLoader loader = context(contextPath).getClassLoader();
        Class<?> resolved = Class.forName(className, false, loader);
        if (resolved.getClassLoader() == loader) {
            return "web-app";
        }
        Class<?> serverCopy = Class.forName(className, false, WebAppServer.class.getClassLoader());
        return resolved == serverCopy ? "server" : "another loader: " + resolved.getClassLoader();
    }

    /** Stops the application, removes it from the server and destroys it, as an undeploy does. */
    public void undeploy(String contextPath) throws Exception {
        WebAppContext context = context(contextPath);
        deployed.remove(contextPath);
        try {
            context.stop();
        } finally {
            contexts.removeHandler(context);
            context.destroy();
        }
    }

    private WebAppContext context(String contextPath) {
        WebAppContext context = deployed.get(contextPath);
        if (context == null) {
            throw new IllegalStateException(contextPath + " is not deployed");
        }
        return context;
    }

    /** Undeploys whatever is still deployed (a test that failed half-way), then stops the server. */
    public void close() throws Exception {
        List<Exception> failures = new ArrayList<>();
        for (String contextPath : List.copyOf(deployed.keySet())) {
            try {
                undeploy(contextPath);
            } catch (Exception e) {
                failures.add(e);
            }
        }
        server.stop();
        server.destroy();
        if (!failures.isEmpty()) {
            Exception first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}
