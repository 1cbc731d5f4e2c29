/**
 * Spring Boot auto-configuration for Backstop: {@link dev.backstop.spring.BackstopAutoConfiguration} and its settings,
 * {@link dev.backstop.spring.BackstopProperties} ({@code backstop.*}).
 */
package dev.backstop.spring;
