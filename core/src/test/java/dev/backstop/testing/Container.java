package dev.backstop.testing;

import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;

/** The servlet containers the functional suites run on, each a real embedded server. */
public enum Container {
    /** Jetty 12 (ee10): aborts a committed response quietly. */
    JETTY,
    /** Tomcat 11: aborted through its {@code CLOSE_NOW} action. */
    TOMCAT;

    /** How an application hands {@link RecoveryFilter} to the container. */
    public enum Registration {
        /**
         * As web.xml does: by class, created with the no-arg constructor and configured from init-params; the
         * meter registry is a ServletContext attribute named by {@code meter-registry-attribute}.
         */
        WEB_XML,
        /** As code does: a {@code RecoveryFilter.builder()...build()} instance. */
        PROGRAMMATIC
    }

    /** The ServletContext attribute the WEB_XML registration keeps its meter registry in. */
    public static final String REGISTRY_ATTRIBUTE = "app.meterRegistry";

    /** A server, not started yet, whose RecoveryFilter is registered the given way and counts into {@code registry}. */
    public ServletServer server(Registration registration, MeterRegistry registry) {
        if (registration == Registration.PROGRAMMATIC) {
            return server(RecoveryFilter.builder().meterRegistry(registry).build());
        }
        return server(registry, Map.of());
    }

    /**
     * A server, not started yet, with {@link RecoveryFilter} registered by class as web.xml does ({@link
     * Registration#WEB_XML}) and configured from {@code initParams}; {@code meter-registry-attribute} is added to them,
     * naming the ServletContext attribute that holds {@code registry}.
     */
    public ServletServer server(MeterRegistry registry, Map<String, String> initParams) {
        Map<String, String> params = new HashMap<>(initParams);
        params.put("meter-registry-attribute", REGISTRY_ATTRIBUTE);
        Map<String, Object> attributes = Map.of(REGISTRY_ATTRIBUTE, registry);
        return switch (this) {
            case JETTY -> new TestServer(RecoveryFilter.class, params, attributes);
            case TOMCAT -> new TomcatServer(RecoveryFilter.class, params, attributes);
        };
    }

    /** A server, not started yet, with {@code filter} registered as an instance. */
    public ServletServer server(RecoveryFilter filter) {
        return switch (this) {
            case JETTY -> new TestServer(filter);
            case TOMCAT -> new TomcatServer(filter);
        };
    }
}
