package dev.backstop.spring;

/** {@link StarterBehaviour} on Tomcat, Boot's default container. */
class StarterOnTomcatTest extends StarterBehaviour {

    @Override
    String server() {
        return "Tomcat";
    }
}
