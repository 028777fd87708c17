package io.berth.pool;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Captures what a class logs through System.Logger (backed by java.util.logging in tests). */
final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    LogCapture(Class<?> source) {
        logger = Logger.getLogger(source.getName());
        logger.addHandler(handler);
    }

    List<String> warnings() {
        return records.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                .map(r -> (r.getParameters() == null || r.getParameters().length == 0 ? r.getMessage()
                        : java.text.MessageFormat.format(r.getMessage(), r.getParameters()))
                        + (r.getThrown() == null ? "" : " " + r.getThrown()))
                .collect(java.util.stream.Collectors.toList());
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}
