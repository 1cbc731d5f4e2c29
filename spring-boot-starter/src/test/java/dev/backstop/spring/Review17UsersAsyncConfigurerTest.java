package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.AsyncConfigurer;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * Review 17: the textbook {@code @Async} setup (Spring's own javadoc of {@code AsyncConfigurer}): a
 * {@code @Configuration} class that implements {@code AsyncConfigurer} and declares its executor as a {@code @Bean}.
 * docs/spring-boot.md: "Your own beans win", and the post-processor "wraps every AsyncConfigurer bean (Boot's own, or
 * yours)". The post-processor replaces the configuration bean itself with a {@code ReportingAsyncConfigurer}, so
 * Spring can no longer call that bean's {@code @Bean} methods on it, and nothing can inject it by its type.
 */
class Review17UsersAsyncConfigurerTest {

    @Configuration(proxyBeanMethods = false)
    @EnableAsync
    static class AsyncConfig implements AsyncConfigurer {

        @Bean
        ThreadPoolTaskExecutor ordersExecutor() {
            ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
            executor.setThreadNamePrefix("orders-");
            return executor;
        }

        @Override
        public Executor getAsyncExecutor() {
            return null; // Spring then uses its default lookup
        }
    }

    /** A bean of the application that needs its configuration class, as any other injection by type. */
    static class NeedsAsyncConfig {
        NeedsAsyncConfig(AsyncConfig config) {
        }
    }

    private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(BackstopAutoConfiguration.class))
            .withBean(MeterRegistry.class, SimpleMeterRegistry::new);

    @Test
    void anApplicationsAsyncConfigurerWithBeanMethodsStillStarts() {
        runner.withUserConfiguration(AsyncConfig.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(AsyncConfigurer.class);
            assertThat(context.getBean("ordersExecutor")).isInstanceOf(ThreadPoolTaskExecutor.class);
        });
    }

    @Test
    void anApplicationsAsyncConfigurerCanStillBeInjectedByItsType() {
        runner.withUserConfiguration(AsyncConfig.class).withBean(NeedsAsyncConfig.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(AsyncConfig.class)).isNotNull();
        });
    }
}
