package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.aop.interceptor.AsyncUncaughtExceptionHandler;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
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

    /** The application's handler: it records, then lets the caller see that it ran. */
    static final class Recording implements AsyncUncaughtExceptionHandler {
        final CountDownLatch called = new CountDownLatch(1);

        @Override
        public void handleUncaughtException(Throwable ex, java.lang.reflect.Method method, Object... params) {
            called.countDown();
        }
    }

    /** A common style: the configurer holds its handler and executor in final fields; its overrides are final. */
    @Configuration(proxyBeanMethods = false)
    @EnableAsync
    static class FinalMethodsConfig implements AsyncConfigurer {
        static volatile Recording lastBuilt;
        final Recording handler = new Recording();
        private final ThreadPoolTaskExecutor executor;

        FinalMethodsConfig() {
            lastBuilt = handler;
            executor = new ThreadPoolTaskExecutor();
            executor.setThreadNamePrefix("orders-");
            executor.initialize();
        }

        @Override
        public final Executor getAsyncExecutor() {
            return executor;
        }

        @Override
        public final AsyncUncaughtExceptionHandler getAsyncUncaughtExceptionHandler() {
            return handler;
        }

        /** Used by other beans that inject the configuration by its type. */
        public final String threadNamePrefix() {
            return executor.getThreadNamePrefix();
        }

        @Bean
        FinalJobs finalJobs() {
            return new FinalJobs();
        }
    }

    static class FinalJobs {
        @Async
        public void failVoid() {
            throw new IllegalStateException("void @Async job failed");
        }
    }

    /**
     * A configurer with final methods cannot be proxied (the proxy would run them on itself, with its fields unset)
     * nor replaced (its {@code @Bean} methods and injection by its type would break): it is left as it is, with a
     * WARN that names it and says what to do; its void {@code @Async} failures still reach its own handler.
     */
    @Test
    void aConfigurerWithFinalMethodsIsLeftAsItIsAndSaysSo() throws Exception {
        try (LogCapture log = LogCapture.attach()) {
            runner.withUserConfiguration(FinalMethodsConfig.class).run(context -> {
                assertThat(context).hasNotFailed();
                Recording handler = FinalMethodsConfig.lastBuilt;
                assertThat(context.getBean(FinalMethodsConfig.class).threadNamePrefix()).isEqualTo("orders-");

                context.getBean(FinalJobs.class).failVoid();

                assertThat(handler.called.await(10, TimeUnit.SECONDS)).as("the application's own handler was called")
                        .isTrue();
            });
            assertThat(log.events()).anySatisfy(event -> {
                assertThat(event.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
                assertThat(event.getFormattedMessage()).contains("AsyncConfigurer bean", "has a final method",
                        "Backstop.report(failure)");
            });
        }
    }
}
