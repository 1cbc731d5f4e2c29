package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.spring.app.FailingController;
import dev.backstop.spring.app.TestApplication;
import jakarta.servlet.DispatcherType;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.error.ErrorPageRegistrarBeanPostProcessor;
import org.springframework.boot.web.server.servlet.context.ServletWebServerApplicationContext;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.support.ErrorPageFilter;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * A WAR deployment's filter chain: Boot's {@code ErrorPageFilter} registered as {@code SpringBootServletInitializer}
 * registers it (its {@code ErrorPageFilterConfiguration}, copied here since it is not public). ErrorPageFilter would
 * forward a panic to {@code /error}, and swallow one after commit so that the client gets a clean end; with the
 * starter, Backstop sits just inside it and sees every failure first.
 */
@SpringBootTest(classes = {TestApplication.class, WarErrorPageFilterBehaviour.WarDeployment.class},
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
abstract class WarErrorPageFilterBehaviour {

    @LocalServerPort
    int port;

    @Autowired
    ServletWebServerApplicationContext context;

    Http http;
    LogCapture log;

    abstract String server();

    @BeforeEach
    void attach() {
        http = new Http(port);
        log = LogCapture.attach();
    }

    @AfterEach
    void detach() {
        log.close();
    }

    @Test
    void committedFailureIsAbortedNotSwallowed() throws Exception {
        assertThat(context.getWebServer().getClass().getSimpleName()).startsWith(server());
        StarterBehaviour.assertCommittedFailureAborted(http, log, "/write", "WriteFailure",
                "the handler failed after writing " + FailingController.STREAMED_BYTES + " bytes");
    }

    @Test
    void panicIsAnsweredByBackstopNotForwardedToTheErrorPage() {
        HttpResponse<String> response = http.get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(response.body()).contains("\"errorId\"");
        assertThat(http.panics("HandlerPanic", "handler")).isEqualTo(1.0);
        assertThat(log.errorsAbout("the handler failed on purpose")).hasSize(1);
    }

    @Test
    void errorPageFilterStillServesTheErrorPageOfAStatus() {
        HttpResponse<String> response = http.get("/teapot");

        assertThat(response.statusCode()).isEqualTo(418);
        assertThat(response.body()).contains("\"path\":\"/teapot\"");
    }

    /** What {@code SpringBootServletInitializer} adds to a WAR deployment's context. */
    @Configuration(proxyBeanMethods = false)
    static class WarDeployment {

        @Bean
        ErrorPageFilter errorPageFilter() {
            return new ErrorPageFilter();
        }

        @Bean
        FilterRegistrationBean<ErrorPageFilter> errorPageFilterRegistration(ErrorPageFilter filter) {
            FilterRegistrationBean<ErrorPageFilter> registration = new FilterRegistrationBean<>(filter);
            registration.setOrder(filter.getOrder());
            registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
            return registration;
        }

        @Bean
        static ErrorPageRegistrarBeanPostProcessor warErrorPageRegistrarBeanPostProcessor() {
            return new ErrorPageRegistrarBeanPostProcessor();
        }
    }
}
