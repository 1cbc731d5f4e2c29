/** The reporting pipeline and the one guard: rules, error ids, log lines, meters, log storms. Not a public API. */
package dev.backstop.internal.pipeline;
