package io.berth.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The established TCP connections to a port on this machine, read from Linux's
 * {@code /proc/net/tcp} and {@code /proc/net/tcp6}: what tells how many connections a client
 * holds open, where nginx's counter only tells how many it opened. A connection is named by its
 * socket's inode, so snapshots taken around the phases in which only one client runs tell the
 * connections it opened and still holds apart from every other client's (all clients share this
 * JVM; nginx's own sockets have the port as their local, not their remote, port).
 */
final class Sockets {
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    /** {@code TCP_ESTABLISHED} in the tables' {@code st} column. */
    private static final String ESTABLISHED = "01";

    private Sockets() {
    }

    /**
     * @param port a server port
     * @return the inodes of the established connections whose remote port is {@code port}, or
     *     {@code null} where the tables cannot be read (not Linux)
     */
    static Set<Long> established(int port) {
        String hexPort = String.format(Locale.ROOT, "%04X", port);
        Set<Long> inodes = new HashSet<>();
        try {
            for (Path table : TABLES) {
                if (!Files.isReadable(table)) {
                    continue;
                }
                List<String> lines = Files.readAllLines(table, StandardCharsets.US_ASCII);
                for (int i = 1; i < lines.size(); i++) {
                    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                    String[] f = lines.get(i).trim().split("\\s+");
                    if (f.length > 9 && f[3].equals(ESTABLISHED) && f[2].endsWith(":" + hexPort)) {
                        inodes.add(Long.parseLong(f[9]));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return inodes;
    }

    /**
     * @return the connections of {@code after} that are not in {@code before}: those opened in
     *     between and still established; {@code null} if either snapshot is
     */
    static Set<Long> openedBetween(Set<Long> before, Set<Long> after) {
        if (before == null || after == null) {
            return null;
        }
        Set<Long> opened = new HashSet<>(after);
        opened.removeAll(before);
        return opened;
    }
}
