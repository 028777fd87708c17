package io.berth.probe;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One in-process run of {@link Probe#run}, with what it printed.
 *
 * @param exit the exit status
 * @param out what went to stdout
 * @param err what went to stderr
 */
record ProbeRun(int exit, String out, String err) {
    private static final Pattern SUMMARY =
            Pattern.compile("summary: requests=(\\d+) failed=(\\d+) connections=(\\d+) reuse=(\\d+)%(?: h2=\\d+/\\d+)?");
    /**
     * A row of the connection table: id, server, uses, state, close reason, TLS resumed, created, last used,
     * and, when a row speaks HTTP/2, protocol, streams (in flight / capacity) and GOAWAY.
     */
    private static final Pattern ROW = Pattern.compile(
            "^ +(\\d+) +(\\S+:\\d+) +(\\d+) +(IDLE|SESSION_IDLE|IN_USE|CLOSED) +(\\S+) +(yes|no) +(\\S+) +(\\S+)"
                    + "(?: +(h2|http/1\\.1) +(\\S+) +(.+))?$");
    /** A row of the streams table: id, protocol, streams, peak at once, server limit, resets, last GOAWAY. */
    private static final Pattern STREAMS_ROW = Pattern.compile(
            "^ +(\\d+) +(h2|http/1\\.1) +(\\S+) +(\\S+) +(\\S+) +(\\S+) +(.+)$");

    static ProbeRun of(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            exit = Probe.run(args, o, e);
        }
        return new ProbeRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    List<String> outLines() {
        return List.of(out.split("\\R"));
    }

    String lastLine() {
        List<String> lines = outLines();
        return lines.get(lines.size() - 1);
    }

    /** @return requests, failed, connections, reuse % from the last line, which must be the summary */
    long[] summary() {
        Matcher m = SUMMARY.matcher(lastLine());
        if (!m.matches()) {
            throw new AssertionError("last line is not the summary: '" + lastLine() + "'\n" + out);
        }
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
            Long.parseLong(m.group(4))};
    }

    /**
     * A row of the connection table.
     *
     * @param protocol {@code h2} or {@code http/1.1} when the table has the HTTP/2 columns, else {@code null}
     * @param streams in flight / capacity, {@code -} for HTTP/1.1, or {@code null}
     */
    record Row(long id, String server, int uses, String state, String closeReason, boolean tlsResumed, String protocol,
            String streams) {
    }

    /** A row of the streams table; {@code -} where HTTP/1.1 has nothing to show. */
    record StreamsRow(long id, String protocol, String streams, String peak, String serverLimit, String resets,
            String goAway) {
    }

    List<Row> table() {
        List<Row> rows = new ArrayList<>();
        for (String line : outLines()) {
            Matcher m = ROW.matcher(line);
            if (m.matches()) {
                rows.add(new Row(Long.parseLong(m.group(1)), m.group(2), Integer.parseInt(m.group(3)), m.group(4),
                        m.group(5), m.group(6).equals("yes"), m.group(9), m.group(10)));
            }
        }
        return rows;
    }

    /** @return the rows of the {@code streams per connection} table, empty if there is none */
    List<StreamsRow> streamsTable() {
        List<StreamsRow> rows = new ArrayList<>();
        boolean in = false;
        for (String line : outLines()) {
            if (!line.startsWith(" ")) {
                in = line.startsWith("streams per connection");
                continue;
            }
            Matcher m = STREAMS_ROW.matcher(line);
            if (in && m.matches()) {
                rows.add(new StreamsRow(Long.parseLong(m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5),
                        m.group(6), m.group(7)));
            }
        }
        return rows;
    }

    /**
     * @param section the first words of a section's title line ({@code Berth reuse probe}, {@code pool},
     *     {@code embedded backend})
     * @param key the key of a {@code key value} line in that section
     * @return its value
     */
    String value(String section, String key) {
        boolean in = false;
        for (String line : outLines()) {
            if (!line.startsWith(" ")) {
                in = line.startsWith(section);
            } else if (in && line.startsWith("  " + key + " ")) {
                return line.substring(2 + key.length()).trim();
            }
        }
        throw new AssertionError("no line '" + key + "' in section '" + section + "' of:\n" + out);
    }

    Object json() {
        return MiniJson.parse(out.trim());
    }
}
