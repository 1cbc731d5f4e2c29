package dev.backstop.spring;

/** {@link WarErrorPageFilterBehaviour} on Tomcat. */
class WarErrorPageFilterOnTomcatTest extends WarErrorPageFilterBehaviour {

    @Override
    String server() {
        return "Tomcat";
    }
}
