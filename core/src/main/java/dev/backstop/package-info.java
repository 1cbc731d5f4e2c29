/**
 * Backstop's public API: {@link dev.backstop.RecoveryFilter}, the handler-level safety net (with its
 * {@link dev.backstop.ErrorResponder} hook, its {@link dev.backstop.Failure}, and
 * {@link dev.backstop.AbortRequestException}); {@link dev.backstop.ChildTasks}, guarded request-scoped child work
 * (with {@link dev.backstop.TaskHandle} and {@link dev.backstop.ChildTaskException}); and
 * {@link dev.backstop.Backstop}, the root that owns the reporting pipeline and guards executors, threads and stages.
 */
package dev.backstop;
