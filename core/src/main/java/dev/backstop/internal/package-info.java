/** Backstop's implementation; not a public API, it may change in any release. */
package dev.backstop.internal;
