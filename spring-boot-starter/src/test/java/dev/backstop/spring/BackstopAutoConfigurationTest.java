package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backstop.Backstop;
import dev.backstop.RecoveryFilter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import jakarta.servlet.DispatcherType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration;
import org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.support.ErrorPageFilter;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.task.TaskDecorator;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.annotation.EnableScheduling;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The beans the starter contributes, and when it backs off, without a server. */
class BackstopAutoConfigurationTest {

    private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(BackstopAutoConfiguration.class))
            .withBean(MeterRegistry.class, SimpleMeterRegistry::new);

    @Test
    void registersRecoveryFilterFirstOnEveryPathForRequestAsyncAndErrorDispatches() {
        runner.run(context -> {
            FilterRegistrationBean<?> registration = context.getBean("backstopRecoveryFilter",
                    FilterRegistrationBean.class);
            assertThat(registration.getFilter()).isInstanceOf(RecoveryFilter.class);
            assertThat(registration.getOrder()).isEqualTo(Ordered.HIGHEST_PRECEDENCE);
            assertThat(registration.getUrlPatterns()).containsExactly("/*");
            assertThat(registration.determineDispatcherTypes())
                    .containsExactlyInAnyOrder(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR);
            assertThat(registration.isAsyncSupported()).isTrue();
        });
    }

    @Test
    void backstopReportsToBootsMeterRegistryAndIsNamedAfterTheApplication() {
        runner.withPropertyValues("spring.application.name=orders").run(context -> {
            Backstop backstop = context.getBean(Backstop.class);
            assertThat(backstop.name()).isEqualTo("orders");
            backstop.report(new IllegalStateException("reported from a test"));
            assertThat(context.getBean(MeterRegistry.class).get("backstop.panics")
                    .tags("source", "executor", "exception", "IllegalStateException").counter().count())
                    .isEqualTo(1.0);
        });
    }

    @Test
    void aUsersOwnFilterRegistrationWinsAndTheStarterRegistersNone() {
        runner.withUserConfiguration(OwnRegistration.class).run(context -> {
            assertThat(context).hasSingleBean(Backstop.class); // the starter is active
            Map<String, FilterRegistrationBean> registrations = context.getBeansOfType(FilterRegistrationBean.class);
            assertThat(registrations).containsOnlyKeys("ownRecoveryFilter");
        });
    }

    @Test
    void aUsersOwnRecoveryFilterBeanWinsAndTheStarterRegistersNone() {
        runner.withBean("ownFilter", RecoveryFilter.class, () -> RecoveryFilter.builder().build()).run(context -> {
            assertThat(context).hasSingleBean(Backstop.class);
            assertThat(context).doesNotHaveBean("backstopRecoveryFilter");
        });
    }

    @Test
    void aUsersOwnBackstopIsTheOneEverythingJoins() {
        Backstop own = Backstop.builder().name("own").meterRegistry(new SimpleMeterRegistry()).build();
        runner.withBean(Backstop.class, () -> own).run(context -> {
            assertThat(context).getBean(Backstop.class).isSameAs(own);
            assertThat(context).hasBean("backstopRecoveryFilter");
        });
        own.close();
    }

    @Test
    void inAWarDeploymentRecoveryFilterGoesJustInsideErrorPageFilter() {
        runner.withBean(ErrorPageFilter.class).run(context -> {
            FilterRegistrationBean<?> registration = context.getBean("backstopRecoveryFilter",
                    FilterRegistrationBean.class);
            assertThat(registration.getOrder()).isEqualTo(Ordered.HIGHEST_PRECEDENCE + 2)
                    .isGreaterThan(new ErrorPageFilter().getOrder());
        });
    }

    @Test
    void offWithEnabledFalse() {
        runner.withPropertyValues("backstop.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(Backstop.class);
            assertThat(context).doesNotHaveBean("backstopRecoveryFilter");
            assertThat(context).doesNotHaveBean(TaskDecorator.class);
        });
    }

    @Test
    void aBadValueStopsTheApplicationWithAMessageThatNamesIt() {
        runner.withPropertyValues("backstop.max-child-tasks=0").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).hasStackTraceContaining(
                    "Invalid backstop.* property: maxChildTasks must be at least 1, but was 0");
        });
    }

    @Test
    void theScheduledRunsOfBootsSchedulerAreReported() {
        schedulerReportsFailingRuns(runner);
    }

    @Test
    @EnabledForJreRange(min = JRE.JAVA_21)
    void theScheduledRunsOfBootsVirtualThreadSchedulerAreReported() {
        schedulerReportsFailingRuns(runner.withPropertyValues("spring.threads.virtual.enabled=true"));
    }

    private static void schedulerReportsFailingRuns(WebApplicationContextRunner runner) {
        runner.withConfiguration(AutoConfigurations.of(TaskExecutionAutoConfiguration.class,
                        TaskSchedulingAutoConfiguration.class))
                .withUserConfiguration(Scheduling.class)
                .run(context -> {
                    TaskScheduler scheduler = context.getBean(TaskScheduler.class);
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    scheduler.scheduleAtFixedRate(() -> {
                        throw new IllegalStateException("a scheduled run failed");
                    }, Instant.now(), Duration.ofMillis(50));
                    await().atMost(Duration.ofSeconds(10)).until(() -> registry.find("backstop.panics")
                            .tags("source", "executor").counters().stream()
                            .mapToDouble(c -> c.count()).sum() >= 2.0); // reported, and the schedule went on
                });
    }

    @Test
    void defaultsAreCoresConstants() {
        BackstopProperties properties = new BackstopProperties();

        assertThat(properties.isEnabled()).isTrue();
        assertThat(properties.isExposeStackTraces()).isEqualTo(RecoveryFilter.DEFAULT_EXPOSE_STACK_TRACES);
        assertThat(properties.getProblemType()).isEqualTo(RecoveryFilter.DEFAULT_PROBLEM_TYPE);
        assertThat(properties.getProblemInstance()).isNull();
        assertThat(String.join(", ", properties.getKeepHeaders())).isEqualTo(RecoveryFilter.DEFAULT_KEEP_HEADERS);
        assertThat(properties.isUseErrorPages()).isEqualTo(RecoveryFilter.DEFAULT_USE_ERROR_PAGES);
        assertThat(properties.getLogStormInterval()).isEqualTo(Backstop.DEFAULT_LOG_STORM_INTERVAL);
        assertThat(properties.getMaxChildTasks()).isEqualTo(Backstop.DEFAULT_MAX_CHILD_TASKS);
        assertThat(properties.getBackgroundGracePeriod()).isEqualTo(Backstop.DEFAULT_BACKGROUND_GRACE_PERIOD);
        assertThat(properties.isUncaughtExceptionHandler())
                .isEqualTo(RecoveryFilter.DEFAULT_UNCAUGHT_EXCEPTION_HANDLER);
        assertThat(properties.isProblemTraceId()).isEqualTo(RecoveryFilter.DEFAULT_PROBLEM_TRACE_ID);
    }

    @Test
    void configurationMetadataDocumentsEveryProperty() throws Exception {
        JsonNode metadata = JsonMapper.builder().build().readTree(
                Files.readString(Path.of("target/classes/META-INF/spring-configuration-metadata.json")));

        String[] expected = {"backstop.enabled", "backstop.expose-stack-traces", "backstop.problem-type",
            "backstop.problem-instance", "backstop.keep-headers", "backstop.use-error-pages",
            "backstop.log-storm-interval", "backstop.max-child-tasks", "backstop.background-grace-period",
            "backstop.uncaught-exception-handler", "backstop.problem-trace-id"};
        assertThat(metadata.path("properties").valueStream().map(p -> p.path("name").asString()))
                .containsExactlyInAnyOrder(expected);
        assertThat(metadata.path("properties").valueStream())
                .allSatisfy(p -> assertThat(p.path("description").asString()).as(p.path("name").asString())
                        .isNotBlank());
        assertThat(metadata.path("properties").valueStream()
                .filter(p -> !p.path("name").asString().equals("backstop.problem-instance")))
                .allSatisfy(p -> assertThat(p.has("defaultValue")).as(p.path("name").asString()).isTrue());
        assertThat(Arrays.asList(expected)).hasSize(11);
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnRegistration {
        @Bean
        FilterRegistrationBean<RecoveryFilter> ownRecoveryFilter() {
            return new FilterRegistrationBean<>(RecoveryFilter.builder().build());
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableScheduling
    static class Scheduling {
    }
}
