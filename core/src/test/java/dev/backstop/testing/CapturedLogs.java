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

    /**
     * Every event captured, but the one INFO line a Backstop writes when it is built, naming its meter registry
     * ({@code event=registry}): every test builds one, and {@code RegistryLineTest} checks that line.
     */
    public List<ILoggingEvent> all() {
        List<ILoggingEvent> all = new ArrayList<>(events.size());
        for (ILoggingEvent event : events) {
            if (!isRegistryLine(event)) {
                all.add(event);
            }
        }
        return all;
    }

    /** Every event captured, the registry line included. */
    public List<ILoggingEvent> everything() {
        return new ArrayList<>(events);
    }

    private static boolean isRegistryLine(ILoggingEvent event) {
        return event.getLevel() == Level.INFO && event.getKeyValuePairs() != null
                && event.getKeyValuePairs().stream().anyMatch(pair -> "event".equals(pair.key)
                        && "registry".equals(pair.value));
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
