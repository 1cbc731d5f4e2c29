package dev.backstop.internal.pipeline;

/** Where a failure was captured; {@link #tag()} is the {@code source} tag value of {@code backstop.panics}. */
public enum Source {
    HANDLER("handler"),
    CHILD("child"),
    BACKGROUND("background"),
    EXECUTOR("executor"),
    THREAD("thread");

    private final String tag;

    Source(String tag) {
        this.tag = tag;
    }

    /** @return the tag value, lower case, part of the meter contract */
    public String tag() {
        return tag;
    }
}
