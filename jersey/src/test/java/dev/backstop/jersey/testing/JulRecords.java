package dev.backstop.jersey.testing;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** What Jersey logs (java.util.logging) under one logger, from WARNING up. Close to detach. */
public final class JulRecords implements AutoCloseable {

    private final Logger logger; // held: java.util.logging keeps loggers only weakly, and a collected one loses this
    private final Queue<LogRecord> records = new ConcurrentLinkedQueue<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                records.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private JulRecords(String loggerName) {
        logger = Logger.getLogger(loggerName);
        logger.addHandler(handler);
    }

    /** Captures the WARNING and SEVERE records of {@code loggerName} and its children. */
    public static JulRecords of(String loggerName) {
        return new JulRecords(loggerName);
    }

    /** Each record as its level, logger, message and the class of its throwable, for a readable failure. */
    public List<String> describe() {
        return records.stream().map(r -> r.getLevel() + " " + r.getLoggerName() + " " + r.getMessage()
                + (r.getThrown() == null ? "" : " " + r.getThrown())).toList();
    }

    /** Forgets what was captured so far (what Jersey says at start, say). */
    public void clear() {
        records.clear();
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}
