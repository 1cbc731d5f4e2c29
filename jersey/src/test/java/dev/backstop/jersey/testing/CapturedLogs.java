package dev.backstop.jersey.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/** A logback appender on one logger that keeps every event, for assertions (after core's helper). Close to detach. */
public final class CapturedLogs implements AutoCloseable {

    private final Logger logger;
    private final Queue<ILoggingEvent> events = new ConcurrentLinkedQueue<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            event.prepareForDeferredProcessing();
            events.add(event);
        }
    };

    private CapturedLogs(String loggerName) {
        this.logger = (Logger) LoggerFactory.getLogger(loggerName);
        appender.setName("captured-" + System.identityHashCode(this));
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    /** Captures the events of {@code logger} and its children. */
    public static CapturedLogs of(String loggerName) {
        return new CapturedLogs(loggerName);
    }

    /** The events at {@code level}. */
    public List<ILoggingEvent> at(Level level) {
        return events.stream().filter(e -> e.getLevel() == level).toList();
    }

    /** The events at WARN or ERROR. */
    public List<ILoggingEvent> warningsAndErrors() {
        return events.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
