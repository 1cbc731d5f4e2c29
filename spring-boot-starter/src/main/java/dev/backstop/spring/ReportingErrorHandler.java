package dev.backstop.spring;

import dev.backstop.Backstop;
import org.springframework.util.ErrorHandler;

/**
 * A scheduler's {@link ErrorHandler} that reports a failing run ({@code source=executor}) and ends it there, as
 * Spring's default does for repeating tasks, so the schedule goes on. One-shot tasks too: their failure is reported
 * rather than kept in a future that {@code @Scheduled} never reads. Thread-safe.
 */
final class ReportingErrorHandler implements ErrorHandler {

    private final Backstop backstop;

    ReportingErrorHandler(Backstop backstop) {
        this.backstop = backstop;
    }

    @Override
    public void handleError(Throwable failure) {
        backstop.report(failure);
    }
}
