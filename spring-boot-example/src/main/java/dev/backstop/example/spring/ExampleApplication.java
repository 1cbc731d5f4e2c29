package dev.backstop.example.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * Backstop on Spring Boot: the starter on the class path is all the configuration there is. Start it, open
 * {@code http://localhost:8080/} for the endpoints, and watch {@code /actuator/prometheus}.
 */
@SpringBootApplication
@EnableAsync
@EnableScheduling
public class ExampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(ExampleApplication.class, args);
    }
}
