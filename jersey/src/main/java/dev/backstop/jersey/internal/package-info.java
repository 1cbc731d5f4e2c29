/** The providers {@link dev.backstop.jersey.BackstopFeature} registers; not public API. */
package dev.backstop.jersey.internal;
