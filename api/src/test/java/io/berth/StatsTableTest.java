package io.berth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatsTableTest {
    private static final Instant T0 = Instant.parse("2026-11-25T10:00:00.120Z");

    /** Snapshots as a pool hands them out: the interfaces are implemented by the pool, so by the test here. */
    record Stats(String pool, String backend, int total, int idle, int sessionIdle, int inUse, int waiting,
            int peakInUse, long opened, long acquired, long reused, long tlsResumed, Map<CloseReason, Long> closed,
            long aborted, long acquireWaits, long acquireTimeouts, long connectFailures,
            List<ConnectionStats> connections, List<ServerStats> servers) implements PoolStats {
    }

    record Row(long id, String server, ConnectionState state, Instant created, Instant lastUsed, int uses,
            boolean proven, boolean tlsSessionResumed, CloseReason closeReason) implements ConnectionStats {
    }

    private static PoolStats stats(long opened, List<ConnectionStats> rows) {
        Map<CloseReason, Long> closed = new EnumMap<>(CloseReason.class);
        return new Stats("api", "https://api.example.com:443", 1, 1, 0, 0, 0, 1, opened, 40, 38, 1, closed, 0, 0,
                0, 0, rows, List.of());
    }

    @Test
    void theTableHasTheProbesColumnsInIdOrderWithTimesAfterTheOldestConnection() {
        ConnectionStats second = new Row(2, "api.example.com:443", ConnectionState.CLOSED,
                T0.plusMillis(3010), T0.plusMillis(3140), 2, true, true, CloseReason.MAX_USES);
        ConnectionStats first = new Row(1, "api.example.com:443", ConnectionState.IDLE, T0,
                T0.plusMillis(12480), 38, true, false, null);
        String table = stats(2, List.of(second, first)).table();
        assertThat(table.split("\n")).containsExactly(
                "connection -> uses (pool api, times after 2026-11-25T10:00:00.120Z)",
                "  conn  server               uses  state   close reason  TLS resumed  created  last used",
                "     1  api.example.com:443    38  IDLE    -             no           +0.000s   +12.480s",
                "     2  api.example.com:443     2  CLOSED  MAX_USES      yes          +3.010s    +3.140s");
    }

    @Test
    void aConnectionNeverReleasedShowsNoLastUseAndForgottenRowsAreCounted() {
        ConnectionStats busy = new Row(300, "10.0.0.1:8443", ConnectionState.IN_USE, T0, null, 0, false,
                false, null);
        String table = StatsTable.format(stats(300, List.of(busy)));
        assertThat(table).contains("  300  10.0.0.1:8443     0  IN_USE  -             no           +0.000s          -")
                .endsWith("  (299 earlier closed connections are no longer kept in the pool's table)\n");
        assertThat(StatsTable.format(stats(0, List.of()))).isEqualTo("connection -> uses (pool api)\n"
                + "  (no connection was opened)\n");
    }
}
