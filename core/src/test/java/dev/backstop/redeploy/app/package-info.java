/**
 * The classes of the web applications that {@code RedeployTest} deploys. They are copied into each application's
 * {@code WEB-INF/classes} and loaded there by the web-app class loader, child-first, next to its own copy of
 * backstop-core in {@code WEB-INF/lib}; they use Backstop's public API only, and reach the test through JDK types
 * set as ServletContext attributes (a {@code CountDownLatch}, a {@code MeterRegistry}), never through a test class.
 */
package dev.backstop.redeploy.app;
