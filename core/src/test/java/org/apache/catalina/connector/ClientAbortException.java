package org.apache.catalina.connector;

import java.io.IOException;

/**
 * Stands in for Tomcat's class of the same name, which Backstop recognises by name (it has no Tomcat dependency):
 * lets a Jetty test throw what Tomcat throws when a client goes away.
 */
public class ClientAbortException extends IOException {

    private static final long serialVersionUID = 1L;

    public ClientAbortException(String message) {
        super(message);
    }
}
