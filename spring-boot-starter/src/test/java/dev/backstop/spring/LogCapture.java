package dev.backstop.spring;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/**
 * Every event logged anywhere while it is attached (to the root logger: a second line from Spring, Tomcat or Jetty
 * would show up too). Attach after the Spring context started, since Boot re-initialises logging when it starts one.
 */
final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

    private final ConcurrentLinkedQueue<ILoggingEvent> events = new ConcurrentLinkedQueue<>();

    static LogCapture attach() {
        LogCapture capture = new LogCapture();
        capture.setName("test-capture");
        capture.setContext((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory());
        capture.start();
        root().addAppender(capture);
        return capture;
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    @Override
    protected void append(ILoggingEvent event) {
        event.prepareForDeferredProcessing();
        events.add(event);
    }

    /** Every event captured so far. */
    List<ILoggingEvent> events() {
        return List.copyOf(events);
    }

    /** ERROR events whose message, or the message of any throwable in their cause chain, contains {@code text}. */
    List<ILoggingEvent> errorsAbout(String text) {
        return events.stream()
                .filter(event -> event.getLevel() == Level.ERROR)
                .filter(event -> event.getFormattedMessage().contains(text) || mentions(event.getThrowableProxy(), text))
                .toList();
    }

    private static boolean mentions(IThrowableProxy throwable, String text) {
        for (IThrowableProxy t = throwable; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains(text)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        root().detachAppender(this);
        stop();
    }
}
