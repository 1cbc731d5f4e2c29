package dev.backstop.spring;

import dev.backstop.Backstop;
import org.springframework.core.Ordered;
import org.springframework.core.task.TaskDecorator;

/**
 * Runs every task of a Spring executor through {@link Backstop#guard(Runnable)}. First in Boot's composition, so
 * innermost: it is handed the task itself (a {@code FutureTask} keeps its failure for its reader, and an unchecked
 * one is reported once it ran), and reports inside whatever context the other decorators set up. Thread-safe.
 */
final class GuardingTaskDecorator implements TaskDecorator, Ordered {

    private final Backstop backstop;

    GuardingTaskDecorator(Backstop backstop) {
        this.backstop = backstop;
    }

    @Override
    public Runnable decorate(Runnable task) {
        return backstop.guard(task);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
