/** Backstop's public API: {@link dev.backstop.RecoveryFilter}, its {@link dev.backstop.ErrorResponder} hook and {@link dev.backstop.AbortRequestException}. */
package dev.backstop;
