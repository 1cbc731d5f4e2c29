package dev.backstop.testing;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.List;

/** Makes many distinct exception classes at run time, as a large application (or an attacker's input) might. */
public final class FailureClasses {

    private FailureClasses() {
    }

    /** @return {@code count} distinct classes, each a {@link RuntimeException} with a public no-arg constructor */
    public static List<Class<? extends RuntimeException>> generate(int count) throws Exception {
        byte[] template;
        try (InputStream in = GeneratedFailure.class.getResourceAsStream("GeneratedFailure.class")) {
            if (in == null) {
                throw new IOException("GeneratedFailure.class not found");
            }
            template = in.readAllBytes();
        }
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        List<Class<? extends RuntimeException>> classes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            classes.add(lookup.defineHiddenClass(template, true).lookupClass().asSubclass(RuntimeException.class));
        }
        return classes;
    }
}
