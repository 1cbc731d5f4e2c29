package dev.backstop.internal;

/**
 * What the pipeline made of a failure.
 *
 * @param kind what the failure is
 * @param errorId the error id that was logged, for panics and fatal errors; null for aborts
 */
public record Report(Kind kind, String errorId) {
}
