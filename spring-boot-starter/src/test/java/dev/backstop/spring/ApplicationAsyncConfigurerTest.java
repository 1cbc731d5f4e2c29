package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.aop.interceptor.AsyncUncaughtExceptionHandler;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.AsyncConfigurer;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * The textbook {@code @Async} setup (Spring's own javadoc of {@code AsyncConfigurer}): a {@code @Configuration} class
 * that implements {@code AsyncConfigurer} and declares its executor as a {@code @Bean}. The starter makes it report
 * and leaves it the bean it is: its {@code @Bean} methods still run on it, and it can still be injected by its type.
 */
class ApplicationAsyncConfigurerTest {

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

    /** An application's configurer with a handler of its own, and an {@code @Async} method that fails. */
    @Configuration(proxyBeanMethods = false)
    @EnableAsync
    static class AsyncConfigWithHandler implements AsyncConfigurer {
        static final List<Throwable> HANDLED = new CopyOnWriteArrayList<>();

        @Bean
        Jobs jobs() {
            return new Jobs();
        }

        @Override
        public AsyncUncaughtExceptionHandler getAsyncUncaughtExceptionHandler() {
            return (failure, method, params) -> HANDLED.add(failure);
        }
    }

    static class Jobs {
        @Async
        public void fail() {
            throw new IllegalStateException("the application's @Async job failed");
        }
    }

    @Test
    void aVoidAsyncFailureIsReportedAndStillReachesTheApplicationsOwnHandler() {
        AsyncConfigWithHandler.HANDLED.clear();
        runner.withUserConfiguration(AsyncConfigWithHandler.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(AsyncConfigWithHandler.class)).isNotNull();
            context.getBean(Jobs.class).fail();

            await().atMost(Duration.ofSeconds(10)).until(() -> AsyncConfigWithHandler.HANDLED.size() == 1);
            assertThat(AsyncConfigWithHandler.HANDLED.get(0)).hasMessage("the application's @Async job failed");
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.find("backstop.panics").tag("source", "executor").counter())
                    .as("backstop.panics{source=executor}").isNotNull()
                    .satisfies(counter -> assertThat(counter.count()).isEqualTo(1.0));
        });
    }
}
