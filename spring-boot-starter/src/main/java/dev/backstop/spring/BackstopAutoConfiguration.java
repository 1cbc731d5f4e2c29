package dev.backstop.spring;

import dev.backstop.Backstop;
import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.observation.ObservationRegistry;
import jakarta.servlet.DispatcherType;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingFilterBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.task.SimpleAsyncTaskSchedulerCustomizer;
import org.springframework.boot.task.ThreadPoolTaskSchedulerCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.support.ErrorPageFilter;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.core.task.TaskDecorator;
import org.springframework.scheduling.annotation.AsyncConfigurer;
import org.springframework.util.StringUtils;

/**
 * Backstop for a Spring Boot servlet application, with nothing to write: one {@link Backstop} built with Boot's
 * {@link MeterRegistry}; {@link RecoveryFilter} first in the chain, on {@code /*}, for REQUEST, ASYNC and ERROR,
 * async supported; and the failures of Boot's task executor and scheduler, of {@code @Async} and of
 * {@code @Scheduled} methods reported with {@code source=executor}. Off with {@code backstop.enabled=false}; every
 * bean backs off when the application has its own ({@code Backstop}, a {@code RecoveryFilter} or its
 * {@code FilterRegistrationBean}), and settings come from {@link BackstopProperties}.
 *
 * <p>How the executors are reached, since Boot switches its own executor off when the application defines an
 * {@code Executor} bean: the starter defines none. Instead
 * <ul>
 *   <li>a {@link TaskDecorator} bean, which Boot composes into both its {@code applicationTaskExecutor} and its
 *       {@code taskScheduler}: every task runs through {@link Backstop#guard(Runnable)} (a {@code Future}-returning
 *       {@code @Async} method's failure is reported from its {@code FutureTask} and still reaches its caller);</li>
 *   <li>a post-processor that wraps every {@link AsyncConfigurer} bean (Boot's own, or the application's) so that
 *       a {@code void} {@code @Async} method's exception, which Spring hands to the
 *       {@code AsyncUncaughtExceptionHandler} and never to the executor, is reported, then given to the
 *       application's handler if it has one;</li>
 *   <li>scheduler customizers that set an {@code ErrorHandler} reporting a {@code @Scheduled} failure, which
 *       Spring's scheduler catches before any decorator sees it; the schedule goes on, as with Spring's default.</li>
 * </ul>
 *
 * <p>WAR deployments: Boot's {@link ErrorPageFilter} (registered by {@code SpringBootServletInitializer} right after
 * the highest precedence) forwards a failure to {@code /error} and swallows it once the response is committed.
 * When it is present, RecoveryFilter is registered just inside it, so that Backstop sees every failure first: it
 * answers panics (or aborts committed responses) itself, and ErrorPageFilter still serves the error pages of
 * {@code sendError} statuses.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnProperty(prefix = "backstop", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(BackstopProperties.class)
public class BackstopAutoConfiguration {

    /** Made by Spring, as every auto-configuration is. */
    public BackstopAutoConfiguration() {
    }

    /** The order of RecoveryFilter's registration: first of all filters. */
    public static final int FILTER_ORDER = Ordered.HIGHEST_PRECEDENCE;
    /** The order of RecoveryFilter's registration when Boot's ErrorPageFilter is present: just inside it. */
    public static final int FILTER_ORDER_INSIDE_ERROR_PAGE_FILTER = Ordered.HIGHEST_PRECEDENCE + 2;

    private static final Logger log = LoggerFactory.getLogger(BackstopAutoConfiguration.class);

    /**
     * The application's Backstop, reporting to Boot's {@code MeterRegistry} ({@code Metrics.globalRegistry} when
     * there is none), setting each panic as the error of Boot's current {@code Observation} when there is an
     * {@code ObservationRegistry}, and named after {@code spring.application.name} when it is set. Closed when the
     * context closes.
     *
     * @param properties the {@code backstop.*} properties
     * @param meterRegistry Boot's meter registry, if any
     * @param observationRegistry Boot's observation registry, if any
     * @param environment for {@code spring.application.name}
     * @return the Backstop
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public Backstop backstop(BackstopProperties properties, ObjectProvider<MeterRegistry> meterRegistry,
            ObjectProvider<ObservationRegistry> observationRegistry, Environment environment) {
        Backstop backstop = checked(() -> {
            Backstop.Builder builder = Backstop.builder()
                    .meterRegistry(meterRegistry.getIfUnique(() -> Metrics.globalRegistry))
                    .logStormInterval(properties.getLogStormInterval())
                    .maxChildTasks(properties.getMaxChildTasks())
                    .backgroundGracePeriod(properties.getBackgroundGracePeriod());
            ObservationRegistry observations = observationRegistry.getIfUnique();
            if (observations != null && !observations.isNoop()) {
                builder.observationRegistry(observations);
            }
            String name = environment.getProperty("spring.application.name");
            if (StringUtils.hasText(name)) {
                builder.name(name);
            }
            return builder.build();
        });
        if (properties.isUncaughtExceptionHandler()) {
            backstop.installUncaughtExceptionHandler(); // close() takes it out again
        }
        return backstop;
    }

    /**
     * RecoveryFilter, joined to the Backstop bean, first in the chain (just inside Boot's ErrorPageFilter when a WAR
     * deployment registers one), on every path, for REQUEST, ASYNC and ERROR dispatches, async supported.
     *
     * @param backstop the Backstop bean
     * @param properties the {@code backstop.*} properties
     * @param environment for {@code spring.mvc.problemdetails.enabled}
     * @param beans to find a WAR deployment's {@code ErrorPageFilter}
     * @return the registration
     */
    @Bean
    @ConditionalOnMissingFilterBean(RecoveryFilter.class)
    public FilterRegistrationBean<RecoveryFilter> backstopRecoveryFilter(Backstop backstop,
            BackstopProperties properties, Environment environment, ListableBeanFactory beans) {
        boolean problemInstance = properties.getProblemInstance() != null ? properties.getProblemInstance()
                : environment.getProperty("spring.mvc.problemdetails.enabled", Boolean.class, false);
        RecoveryFilter filter = checked(() -> RecoveryFilter.builder()
                .backstop(backstop)
                .exposeStackTraces(properties.isExposeStackTraces())
                .problemType(properties.getProblemType())
                .problemInstance(problemInstance)
                .problemTraceId(properties.isProblemTraceId())
                .keepHeaders(properties.getKeepHeaders())
                .useErrorPages(properties.isUseErrorPages())
                .build());
        FilterRegistrationBean<RecoveryFilter> registration = new FilterRegistrationBean<>(filter);
        registration.setName("backstopRecoveryFilter");
        registration.addUrlPatterns("/*");
        registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR);
        registration.setAsyncSupported(true);
        if (beans.getBeanNamesForType(ErrorPageFilter.class, true, false).length > 0) {
            registration.setOrder(FILTER_ORDER_INSIDE_ERROR_PAGE_FILTER);
            log.info("Boot's ErrorPageFilter is registered (a WAR deployment): RecoveryFilter goes just inside it "
                    + "(order HIGHEST_PRECEDENCE + 2), so that Backstop answers every failure first and committed "
                    + "ones are aborted rather than swallowed");
        } else {
            registration.setOrder(FILTER_ORDER);
        }
        return registration;
    }

    /** Core checks every value and names it; this says that it came from a {@code backstop.*} property. */
    private static <T> T checked(Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException | NullPointerException bad) {
            throw new IllegalArgumentException("Invalid backstop.* property: " + bad.getMessage(), bad);
        }
    }

    /**
     * Guards every task of Boot's {@code applicationTaskExecutor} and {@code taskScheduler} (Boot composes every
     * {@code TaskDecorator} bean into both). Innermost of the decorators, so that it sees the task itself (a
     * {@code FutureTask} keeps its failure) and reports inside the context the others propagate.
     *
     * @param backstop the Backstop bean
     * @return the decorator
     */
    @Bean
    @ConditionalOnMissingBean(name = "backstopTaskDecorator")
    public TaskDecorator backstopTaskDecorator(Backstop backstop) {
        return new GuardingTaskDecorator(backstop);
    }

    /**
     * Reports the failure of a {@code void} {@code @Async} method, which Spring gives the
     * {@code AsyncUncaughtExceptionHandler} of the {@code AsyncConfigurer}, never the executor.
     *
     * @param backstop the Backstop bean, looked up when the first configurer is wrapped
     * @return the post-processor
     */
    @Bean
    public static BeanPostProcessor backstopAsyncConfigurerPostProcessor(ObjectProvider<Backstop> backstop) {
        return new AsyncConfigurerPostProcessor(backstop);
    }

    /**
     * Reports a failing {@code @Scheduled} run of Boot's {@code ThreadPoolTaskScheduler}; the schedule goes on.
     *
     * @param backstop the Backstop bean
     * @return the customizer
     */
    @Bean
    public ThreadPoolTaskSchedulerCustomizer backstopThreadPoolTaskSchedulerCustomizer(Backstop backstop) {
        return scheduler -> scheduler.setErrorHandler(new ReportingErrorHandler(backstop));
    }

    /**
     * Reports a failing {@code @Scheduled} run of Boot's {@code SimpleAsyncTaskScheduler} (virtual threads).
     *
     * @param backstop the Backstop bean
     * @return the customizer
     */
    @Bean
    public SimpleAsyncTaskSchedulerCustomizer backstopSimpleAsyncTaskSchedulerCustomizer(Backstop backstop) {
        return scheduler -> scheduler.setErrorHandler(new ReportingErrorHandler(backstop));
    }
}
