/** The request context and the child-task runtime behind {@code ChildTasks}. Not a public API. */
package dev.backstop.internal.tasks;
