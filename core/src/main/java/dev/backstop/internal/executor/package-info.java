/** Guarded executors, futures and the uncaught-exception handler, for work outside any request. Not a public API. */
package dev.backstop.internal.executor;
