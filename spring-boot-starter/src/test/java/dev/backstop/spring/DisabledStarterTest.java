package dev.backstop.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backstop.Backstop;
import dev.backstop.spring.app.TestApplication;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;

/** {@code backstop.enabled=false}: the application is as if the starter were not there. */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "backstop.enabled=false")
class DisabledStarterTest {

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Test
    void bootsOwnErrorHandlingAnswersAndNoBackstopMeterExists() {
        HttpResponse<String> response = new Http(port).get("/panic");

        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json"));
        assertThat(response.body()).contains("\"path\":\"/panic\"").doesNotContain("errorId");
        assertThat(new Http(port).prometheus()).doesNotContain("backstop_");
        assertThat(context.getBeanNamesForType(Backstop.class)).isEmpty();
    }
}
