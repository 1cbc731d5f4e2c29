/** What {@code RecoveryFilter} does: its settings, how it answers a failure, and container differences. Not a public API. */
package dev.backstop.internal.servlet;
