package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
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
 * The post-processor keeps an application's AsyncConfigurer behind a class-based (CGLIB) proxy. Such a proxy is a
 * second instance of the application's class, made without running its constructor: a final method cannot be
 * intercepted and runs on that empty instance, whose fields are all null. Before, the configurer was wrapped and
 * these methods ran on the bean itself.
 */
class ReviewTodayAsyncConfigurerTest {

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
        Jobs jobs() {
            return new Jobs();
        }
    }

    static class Jobs {
        @Async
        public void failVoid() {
            throw new IllegalStateException("void @Async job failed");
        }
    }

    private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(BackstopAutoConfiguration.class))
            .withBean(MeterRegistry.class, SimpleMeterRegistry::new);

    @Test
    void aVoidAsyncFailureIsReportedAndStillReachesTheApplicationsHandlerWhenTheConfigurerMethodsAreFinal() {
        runner.withUserConfiguration(FinalMethodsConfig.class).run(context -> {
            assertThat(context).hasNotFailed();
            // The handler instance the application built (the bean's field, read off the target, not the proxy).
            Recording handler = FinalMethodsConfig.lastBuilt; // the handler the application built
            MeterRegistry registry = context.getBean(MeterRegistry.class);

            context.getBean(Jobs.class).failVoid();

            await().atMost(Duration.ofSeconds(10)).until(() -> registry.find("backstop.panics").tags("source", "executor").counters().stream()
                            .mapToDouble(c -> c.count()).sum() == 1.0);
            assertThat(handler.called.await(5, TimeUnit.SECONDS)).as("the application's own handler was called")
                    .isTrue();
        });
    }

    @Test
    void aBeanInjectingTheConfigurerByItsTypeSeesTheConfigurersState() {
        runner.withUserConfiguration(FinalMethodsConfig.class).run(context -> {
            assertThat(context).hasNotFailed();
            FinalMethodsConfig injected = context.getBean(FinalMethodsConfig.class);
            assertThat(injected.threadNamePrefix()).isEqualTo("orders-");
        });
    }
}
