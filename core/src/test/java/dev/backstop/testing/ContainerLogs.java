package dev.backstop.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the containers and frameworks themselves log at WARN or above while a test runs: Jetty's loggers
 * ({@code org.eclipse.jetty}, through SLF4J and logback) and the {@code java.util.logging} records of Tomcat
 * ({@code org.apache}, through JULI) and Jersey ({@code org.glassfish}). Backstop's own lines are in
 * {@link Harness#logs()}. Every line is counted; the first {@value #KEPT} are kept for assertions, so a container
 * that logs in a loop cannot exhaust the heap. Start it before the server, so that it is detached after the servers
 * are closed:
 * <pre>{@code
 * ContainerLogs containerLogs = ContainerLogs.capture(harness);
 * }</pre>
 */
public final class ContainerLogs implements AutoCloseable {

    /** How many lines are kept; the rest are only counted. */
    public static final int KEPT = 1000;

    /** One line a container logged at WARN or above. */
    public record Line(String logger, String level, String message, String thrown) {
        /** Whether the line carries a stack trace ({@link #thrown} names its throwable). */
        public boolean hasStack() {
            return thrown != null;
        }

        @Override
        public String toString() {
            return level + " " + logger + " - " + message + (hasStack() ? " [with stack: " + thrown + "]" : "");
        }
    }

    /** The JUL loggers captured; held strongly, so that JUL does not forget the handler with the logger. */
    private static final String[] JUL_LOGGERS = {"org.apache", "org.glassfish"};
    private static final String JETTY_LOGGER = "org.eclipse.jetty";

    private final boolean quiet;
    private final Queue<Line> lines = new ConcurrentLinkedQueue<>();
    private final AtomicInteger count = new AtomicInteger();
    private final ch.qos.logback.classic.Logger jetty;
    private final boolean jettyAdditive;
    private final List<Logger> julLoggers = new ArrayList<>();
    private final List<Boolean> julUseParents = new ArrayList<>();

    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
                IThrowableProxy thrown = event.getThrowableProxy();
                add(new Line(event.getLoggerName(), event.getLevel().toString(), event.getFormattedMessage(),
                        thrown == null ? null : thrown.getClassName() + ": " + thrown.getMessage()));
            }
        }
    };

    private final Handler julHandler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() < java.util.logging.Level.WARNING.intValue()) {
                return;
            }
            String message = record.getMessage();
            try {
                message = new java.util.logging.SimpleFormatter().formatMessage(record);
            } catch (RuntimeException unformattable) {
                // Keep the raw message.
            }
            add(new Line(record.getLoggerName(), record.getLevel().getName(), message,
                    record.getThrown() == null ? null : String.valueOf(record.getThrown())));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private ContainerLogs(boolean quiet) {
        this.quiet = quiet;
        jetty = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JETTY_LOGGER);
        jettyAdditive = jetty.isAdditive();
        appender.setName("container-logs-" + System.identityHashCode(this));
        appender.setContext(jetty.getLoggerContext());
        appender.start();
        jetty.addAppender(appender);
        julHandler.setLevel(java.util.logging.Level.ALL);
        for (String name : JUL_LOGGERS) {
            Logger logger = Logger.getLogger(name);
            julUseParents.add(logger.getUseParentHandlers());
            logger.addHandler(julHandler);
            julLoggers.add(logger);
        }
        if (quiet) {
            jetty.setAdditive(false);
            julLoggers.forEach(logger -> logger.setUseParentHandlers(false));
        }
    }

    private void add(Line line) {
        if (count.incrementAndGet() <= KEPT) {
            lines.add(line);
        }
    }

    /** Starts capturing, until the test ends; the lines still go to the test output too. */
    public static ContainerLogs capture(Harness harness) {
        return harness.closeAfter(new ContainerLogs(false));
    }

    /**
     * Starts capturing, until the test ends, and keeps the containers' lines out of the test output meanwhile: for a
     * test where a container may log in a loop.
     */
    public static ContainerLogs captureQuietly(Harness harness) {
        return harness.closeAfter(new ContainerLogs(true));
    }

    /** How many lines at WARN or above were logged, kept or not. */
    public int count() {
        return count.get();
    }

    /** The lines at WARN or above (the first {@value #KEPT}). */
    public List<Line> warningsAndErrors() {
        return new ArrayList<>(lines);
    }

    /** The lines that carry a stack trace. */
    public List<Line> withStack() {
        return warningsAndErrors().stream().filter(Line::hasStack).toList();
    }

    /** The lines at ERROR (logback) or SEVERE (JUL). */
    public List<Line> errors() {
        return warningsAndErrors().stream()
                .filter(line -> line.level().equals("ERROR") || line.level().equals("SEVERE")).toList();
    }

    @Override
    public void close() {
        for (int i = 0; i < julLoggers.size(); i++) {
            julLoggers.get(i).removeHandler(julHandler);
            if (quiet) {
                julLoggers.get(i).setUseParentHandlers(julUseParents.get(i));
            }
        }
        if (quiet) {
            jetty.setAdditive(jettyAdditive);
        }
        jetty.detachAppender(appender);
        appender.stop();
    }
}
