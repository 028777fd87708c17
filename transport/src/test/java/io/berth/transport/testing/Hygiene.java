package io.berth.transport.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that fails a test which leaves sockets behind (Linux only; elsewhere it does
 * nothing). Use it with {@code @ExtendWith(Hygiene.class)}.
 *
 * <ul>
 *   <li>Before each test it counts this process's socket, epoll and eventfd descriptors
 *       ({@code /proc/self/fd}); after the test (and after its {@code @AfterEach} methods, which
 *       should close the test's servers) the counts must come back to that baseline within
 *       {@link #SETTLE}. epoll and eventfd descriptors are counted because every NIO
 *       {@code Selector} holds one of each, so a leaked selector shows.</li>
 *   <li>No socket of this process may be in CLOSE_WAIT, the state of a socket whose peer closed
 *       and which we never closed ({@code /proc/net/tcp} and {@code /proc/net/tcp6}, matched by inode
 *       against our descriptors).</li>
 *   <li>No thread whose name starts with {@code berth-} is alive once the test ended (the pools it
 *       opened are closed), within {@link #SETTLE}.</li>
 *   <li>Nothing under the {@code io.berth} loggers was logged at WARNING or above, unless the test
 *       method or class is annotated {@link AllowWarnings}.</li>
 * </ul>
 *
 * <p>The JDK opens some descriptors lazily, on first use of NIO; so, once per JVM, before the first
 * baseline, the extension opens and closes a loopback connection and a selector, and on JDK 21 and
 * later starts the pollers that park virtual threads blocked on sockets. Tests must not run
 * in parallel. Thread-safe.
 */
public final class Hygiene implements BeforeEachCallback, AfterEachCallback {
    /** How long descriptors may take to close after a test: closing is partly asynchronous. */
    public static final Duration SETTLE = Duration.ofSeconds(5);

    /** Lets a test (method or class) log warnings under {@code io.berth}: it expects some. */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target({java.lang.annotation.ElementType.METHOD, java.lang.annotation.ElementType.TYPE})
    public @interface AllowWarnings {
    }

    private static final java.util.logging.Logger BERTH_LOGGER = java.util.logging.Logger.getLogger("io.berth");
    private static final List<String> WARNINGS = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final java.util.logging.Handler WARNING_HANDLER = new java.util.logging.Handler() {
        @Override
        public void publish(java.util.logging.LogRecord r) {
            if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                WARNINGS.add(r.getLoggerName() + ": " + r.getMessage()
                        + (r.getThrown() == null ? "" : " (" + r.getThrown() + ")"));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    static {
        BERTH_LOGGER.addHandler(WARNING_HANDLER);
    }

    private static final Path FD_DIR = Path.of("/proc/self/fd");
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(Hygiene.class);
    private static volatile boolean warmedUp;

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        WARNINGS.clear();
        if (!Files.isDirectory(FD_DIR)) {
            return;
        }
        warmUp();
        context.getStore(NS).put("baseline", counts(descriptors()));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        boolean warningsAllowed = context.getTestMethod().map(m -> m.isAnnotationPresent(AllowWarnings.class))
                .orElse(false) || context.getTestClass().map(c -> c.isAnnotationPresent(AllowWarnings.class))
                .orElse(false);
        if (!warningsAllowed) {
            assertThat(WARNINGS).as("warnings logged under io.berth (annotate @AllowWarnings if expected)")
                    .isEmpty();
        }
        Awaitility.await("no berth- thread alive").atMost(SETTLE).pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> assertThat(berthThreads()).as("live berth- threads").isEmpty());
        @SuppressWarnings("unchecked")
        Map<String, Integer> baseline = context.getStore(NS).remove("baseline", Map.class);
        if (baseline == null) {
            return;
        }
        Awaitility.await("descriptors back to baseline and no CLOSE_WAIT")
                .atMost(SETTLE)
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> {
                    Map<Integer, String> fds = descriptors();
                    assertThat(counts(fds)).as("socket/epoll/eventfd descriptors of this process: %s; sockets: %s",
                            fds.values(), socketStates(fds)).isEqualTo(baseline);
                    assertThat(closeWait(fds)).as("sockets of this process in CLOSE_WAIT").isEmpty();
                });
    }

    /** @return the names of live threads named {@code berth-...} */
    public static List<String> berthThreads() {
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("berth-")) {
                names.add(t.getName());
            }
        }
        return names;
    }

    /**
     * @return how many socket, epoll and eventfd descriptors this process has open now, by kind
     *     ({@code socket}, {@code epoll}, {@code eventfd}), for tests that count their own
     */
    public static Map<String, Integer> openDescriptors() {
        return counts(descriptors());
    }

    /**
     * @param port a server's port on this host
     * @return how many descriptors of this process are TCP sockets connected to that port: the
     *     client sides of connections to a server in this process, not the server's own sockets
     */
    public static int socketsConnectedTo(int port) {
        Map<String, String[]> states = tcpStates();
        int n = 0;
        for (String target : descriptors().values()) {
            if (target.startsWith("socket:[")) {
                String[] row = states.get(target.substring(8, target.length() - 1));
                if (row != null && Integer.parseInt(row[2].substring(row[2].indexOf(':') + 1), 16) == port) {
                    n++;
                }
            }
        }
        return n;
    }

    private static synchronized void warmUp() throws IOException {
        if (warmedUp) {
            return;
        }
        try (ServerSocketChannel server = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(server.getLocalAddress());
                Selector selector = Selector.open()) {
            server.accept().close();
            client.configureBlocking(false).register(selector, java.nio.channels.SelectionKey.OP_READ);
            selector.selectNow();
        }
        if (Runtime.version().feature() >= 21) {
            // The pollers that park virtual threads on sockets (epoll descriptors), opened once per
            // JVM by this class's initializer.
            try {
                Class.forName("sun.nio.ch.Poller");
            } catch (ClassNotFoundException e) {
                // another JDK: nothing to warm up
            }
        }
        warmedUp = true;
    }

    /** @return fd number to link target, e.g. {@code socket:[12345]}, for the kinds we count */
    private static Map<Integer, String> descriptors() {
        Map<Integer, String> fds = new TreeMap<>();
        try (Stream<Path> entries = Files.list(FD_DIR)) {
            entries.forEach(p -> {
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    if (kind(target) != null) {
                        fds.put(Integer.parseInt(p.getFileName().toString()), target);
                    }
                } catch (NoSuchFileException e) {
                    // closed while we listed it (also: the directory stream's own fd)
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return fds;
    }

    private static String kind(String target) {
        if (target.startsWith("socket:[")) {
            return "socket";
        }
        if (target.equals("anon_inode:[eventpoll]")) {
            return "epoll";
        }
        if (target.equals("anon_inode:[eventfd]")) {
            return "eventfd";
        }
        return null;
    }

    private static Map<String, Integer> counts(Map<Integer, String> fds) {
        Map<String, Integer> counts = new TreeMap<>(Map.of("socket", 0, "epoll", 0, "eventfd", 0));
        for (String target : fds.values()) {
            counts.merge(kind(target), 1, Integer::sum);
        }
        return counts;
    }

    /** @return our sockets in CLOSE_WAIT, as "local -> remote" in /proc/net hex notation */
    private static List<String> closeWait(Map<Integer, String> fds) {
        List<String> found = new ArrayList<>();
        Map<String, String[]> states = tcpStates();
        for (String target : fds.values()) {
            if (target.startsWith("socket:[")) {
                String[] row = states.get(target.substring(8, target.length() - 1));
                if (row != null && row[3].equals("08")) {
                    found.add(row[1] + " -> " + row[2]);
                }
            }
        }
        return found;
    }

    private static List<String> socketStates(Map<Integer, String> fds) {
        List<String> out = new ArrayList<>();
        Map<String, String[]> states = tcpStates();
        for (String target : fds.values()) {
            if (target.startsWith("socket:[")) {
                String[] row = states.get(target.substring(8, target.length() - 1));
                out.add(row == null ? target : row[1] + "->" + row[2] + " st=" + row[3]);
            }
        }
        return out;
    }

    /** @return inode to the row of /proc/net/tcp{,6}: [sl, local, remote, state, ..., inode] */
    private static Map<String, String[]> tcpStates() {
        Map<String, String[]> byInode = new HashMap<>();
        for (String file : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(file));
            } catch (NoSuchFileException e) {
                continue;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (String line : lines.subList(1, lines.size())) {
                String[] cols = line.trim().split("\\s+");
                if (cols.length > 9) {
                    byInode.put(cols[9], cols);
                }
            }
        }
        return byInode;
    }
}
