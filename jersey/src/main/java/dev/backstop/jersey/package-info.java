/**
 * Backstop for Jersey 4: {@link dev.backstop.jersey.BackstopFeature}, which leaves the failures Jersey would answer
 * or swallow itself to {@link dev.backstop.RecoveryFilter}.
 */
package dev.backstop.jersey;
