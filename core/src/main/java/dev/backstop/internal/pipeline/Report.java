package dev.backstop.internal.pipeline;

/**
 * What the pipeline made of one occurrence of a failure: its kind, and the error id it was logged under when it is a
 * panic. Immutable.
 */
public final class Report {

    private final Kind kind;
    private final String errorId;
    private final Throwable failure;

    public Report(Kind kind, String errorId, Throwable failure) {
        this.kind = kind;
        this.errorId = errorId;
        this.failure = failure;
    }

    public Kind kind() {
        return kind;
    }

    /** @return the error id the failure was logged under, or null when it was not reported as a panic */
    public String errorId() {
        return errorId;
    }

    /** @return the throwable, as caught */
    public Throwable failure() {
        return failure;
    }
}
