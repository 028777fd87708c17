package io.berth;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The connection -> uses table as text, for logs and health endpoints: one line per connection with
 * the columns the reuse probe prints, {@code conn}, {@code server}, {@code uses}, {@code state},
 * {@code close reason}, {@code TLS resumed}, {@code created} and {@code last used}, the last two in
 * seconds after an origin ({@code +1.250s}). When a connection speaks HTTP/2, three columns follow:
 * {@code protocol} ({@code h2} or {@code http/1.1}), {@code streams} (in flight / capacity) and
 * {@code GOAWAY} (the last one received).
 *
 * <pre>{@code
 * log.info(pool.stats().table());
 * }</pre>
 *
 * <pre>
 * connection -> uses (pool api.example.com:443, times after 2026-11-25T10:00:00.120Z)
 *   conn  server               uses  state   close reason  TLS resumed  created  last used
 *      1  api.example.com:443    38  IDLE    -             no           +0.000s   +12.480s
 *      2  api.example.com:443     2  CLOSED  MAX_USES      yes          +3.010s    +3.140s
 * </pre>
 *
 * <p>Stateless and thread-safe.
 *
 * @since 1.0
 */
public final class StatsTable {
    private static final String[] HEADER = {"conn", "server", "uses", "state", "close reason", "TLS resumed",
        "created", "last used"};
    private static final boolean[] RIGHT = {true, false, true, false, false, false, true, true, false, true, false};
    /** Columns added when a row speaks HTTP/2: its protocol, streams in flight / its capacity, its last GOAWAY. */
    private static final String[] STREAM_HEADER = {"protocol", "streams", "GOAWAY"};

    private StatsTable() {
    }

    /**
     * Renders a snapshot's table: a title line naming the pool and the origin of the times (the
     * oldest connection's creation), a header, one row per connection in id order, and a note when
     * older closed connections are no longer kept (a snapshot keeps {@link PoolStats#CLOSED_ROWS_KEPT}).
     *
     * @param stats a snapshot, e.g. {@code pool.stats()}
     * @return the table, lines ending with {@code \n}
     * @throws NullPointerException if {@code stats} is null
     */
    public static String format(PoolStats stats) {
        Objects.requireNonNull(stats, "stats");
        List<ConnectionStats> rows = stats.connections();
        Instant origin = rows.stream().map(ConnectionStats::created).filter(Objects::nonNull)
                .min(Comparator.naturalOrder()).orElse(null);
        StringBuilder sb = new StringBuilder("connection -> uses (pool ").append(stats.pool());
        if (origin != null) {
            sb.append(", times after ").append(origin);
        }
        sb.append(")\n");
        if (rows.isEmpty()) {
            return sb.append("  (no connection was opened)\n").toString();
        }
        sb.append(format(rows, origin));
        long notShown = stats.opened() - rows.size();
        if (notShown > 0) {
            sb.append("  (").append(notShown).append(" earlier closed connections are no longer kept in the pool's"
                    + " table)\n");
        }
        return sb.toString();
    }

    /**
     * Renders rows under a header, in id order, with their times in seconds after {@code origin}
     * (a time before it shows as {@code +0.000s}; none as {@code -}).
     *
     * @param rows the rows, e.g. {@code stats.connections()}
     * @param origin the instant the times count from
     * @return the header and the rows, lines ending with {@code \n}
     * @throws NullPointerException if an argument is null
     */
    public static String format(List<ConnectionStats> rows, Instant origin) {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(origin, "origin");
        List<ConnectionStats> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparingLong(ConnectionStats::id));
        boolean streams = sorted.stream().anyMatch(c -> c.streams() != null);
        List<String[]> table = new ArrayList<>();
        table.add(streams ? concat(HEADER, STREAM_HEADER) : HEADER);
        for (ConnectionStats c : sorted) {
            String[] row = {Long.toString(c.id()), c.server(), Integer.toString(c.uses()), c.state().name(),
                c.closeReason() == null ? "-" : c.closeReason().name(), c.tlsSessionResumed() ? "yes" : "no",
                seconds(c.created(), origin), seconds(c.lastUsed(), origin)};
            if (streams) {
                StreamStats s = c.streams();
                row = concat(row, s == null ? new String[] {"http/1.1", "-", "-"}
                        : new String[] {"h2", s.streamsInFlight() + "/" + s.capacity(),
                            s.goAway() == null ? "-" : s.goAway()});
            }
            table.add(row);
        }
        return render(table);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static String seconds(Instant t, Instant origin) {
        if (t == null) {
            return "-";
        }
        long millis = Math.max(0, t.toEpochMilli() - origin.toEpochMilli());
        return String.format(Locale.ROOT, "+%d.%03ds", millis / 1000, millis % 1000);
    }

    private static String render(List<String[]> table) {
        int[] widths = new int[table.get(0).length];
        for (String[] row : table) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : table) {
            StringBuilder sb = new StringBuilder(" ");
            for (int i = 0; i < row.length; i++) {
                sb.append(' ');
                String cell = row[i];
                String pad = " ".repeat(widths[i] - cell.length());
                if (RIGHT[i]) {
                    sb.append(pad).append(cell);
                } else {
                    sb.append(cell);
                    if (i < row.length - 1) {
                        sb.append(pad);
                    }
                }
                sb.append(i < row.length - 1 ? " " : "");
            }
            out.append(sb).append('\n');
        }
        return out.toString();
    }
}
