package dev.backstop.spring;

/** {@link WarErrorPageFilterBehaviour} on Jetty. */
class WarErrorPageFilterOnJettyTest extends WarErrorPageFilterBehaviour {

    @Override
    String server() {
        return "Jetty";
    }
}
