package dev.backstop.spring.app;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.annotation.EnableScheduling;

/** A Spring Boot application with no Backstop configuration at all: the starter on the class path is everything. */
@SpringBootApplication
@EnableAsync
@EnableScheduling
public class TestApplication {

    /** One exception class per failure site, so that each site has its own {@code exception} tag. */
    public static class HandlerPanic extends RuntimeException {
        public HandlerPanic(String message) {
            super(message);
        }
    }

    public static class CallableFailure extends RuntimeException {
        public CallableFailure(String message) {
            super(message);
        }
    }

    public static class DeferredFailure extends RuntimeException {
        public DeferredFailure(String message) {
            super(message);
        }
    }

    public static class CompletableFailure extends RuntimeException {
        public CompletableFailure(String message) {
            super(message);
        }
    }

    public static class StreamFailure extends RuntimeException {
        public StreamFailure(String message) {
            super(message);
        }
    }

    public static class WriteFailure extends RuntimeException {
        public WriteFailure(String message) {
            super(message);
        }
    }

    public static class AsyncVoidFailure extends RuntimeException {
        public AsyncVoidFailure(String message) {
            super(message);
        }
    }

    public static class AsyncFutureFailure extends RuntimeException {
        public AsyncFutureFailure(String message) {
            super(message);
        }
    }

    public static class AsyncCompletableFailure extends RuntimeException {
        public AsyncCompletableFailure(String message) {
            super(message);
        }
    }

    public static class ScheduledFailure extends RuntimeException {
        public ScheduledFailure(String message) {
            super(message);
        }
    }
}
