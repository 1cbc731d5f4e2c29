package dev.backstop.testing;

/**
 * The template of {@link FailureClasses}: its bytes are defined again and again as hidden classes, each a distinct
 * exception class with a name of its own.
 */
public class GeneratedFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GeneratedFailure() {
        super("generated failure");
    }
}
