package dev.backstop.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/** A logback appender on one logger that keeps every event, for assertions. Close it to detach. */
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

    public List<ILoggingEvent> all() {
        return new ArrayList<>(events);
    }

    public List<ILoggingEvent> at(Level level) {
        return all().stream().filter(e -> e.getLevel() == level).toList();
    }

    public List<ILoggingEvent> errors() {
        return at(Level.ERROR);
    }

    /**
     * Forgets the events captured so far. An event keeps the logged throwable (logback's {@code ThrowableProxy}
     * holds it), so a test that checks what else keeps a throwable or its class reachable clears them first.
     */
    public void clear() {
        events.clear();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
