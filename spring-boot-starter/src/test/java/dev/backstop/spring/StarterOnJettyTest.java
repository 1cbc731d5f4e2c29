package dev.backstop.spring;

/** {@link StarterBehaviour} on Jetty: {@code spring-boot-starter-jetty}, Tomcat off the class path. */
class StarterOnJettyTest extends StarterBehaviour {

    @Override
    String server() {
        return "Jetty";
    }
}
