package io.berth.transport;

import static io.berth.transport.TestBackends.CONNECT_TIMEOUT;
import static io.berth.transport.TestBackends.http;
import static io.berth.transport.TestBackends.https;
import static io.berth.transport.TestBackends.loopback;
import static io.berth.transport.TestBackends.trustingTestCa;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.ResponseTimeoutException;
import io.berth.spi.Connection;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.RawServer;
import io.berth.transport.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The blocking I/O model against real sockets: one descriptor per connection, every bounded wait
 * ended by the watchdog at its own deadline and not before, the watchdog thread's life, no monitor
 * held by a thread blocked in I/O, full duplex for a dedicated reader, and virtual threads.
 */
@ExtendWith(Hygiene.class)
@Timeout(30)
class BlockingIoTest {
    private static final SSLContext SERVER_TLS = TestPki.server().context();
    private static final long SHORT = TimeUnit.MILLISECONDS.toNanos(300);
    /** Slack on top of a timeout: scheduling on a loaded 2-core machine. */
    private static final long SLACK_MS = 1_000;

    private RawServer server;
    private final List<Connection> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Connection c : open) {
            c.abort();
        }
        if (server != null) {
            server.close();
        }
    }

    private NioConnector tlsConnector() {
        return new NioConnector(https(server.port(), trustingTestCa().build()));
    }

    private Connection connect(NioConnector connector) throws Exception {
        Connection c = connector.connect(loopback(server.port()), CONNECT_TIMEOUT);
        open.add(c);
        return c;
    }

    /** A TLS server that completes the handshake, then neither reads nor writes until closed. */
    private static void tlsThenNothing(java.net.Socket raw) throws Exception {
        RawServer.tls(raw, SERVER_TLS);
        Thread.sleep(TimeUnit.MINUTES.toMillis(1)); // interrupted when the server closes
    }

    @Test
    void nConnectionsCostNSocketDescriptorsAndNoSelector() throws Exception {
        server = RawServer.start(raw -> RawServer.tls(raw, SERVER_TLS).getInputStream().read());
        Map<String, Integer> before = Hygiene.openDescriptors();
        NioConnector connector = tlsConnector();
        for (int i = 0; i < 8; i++) {
            connect(connector);
        }
        Map<String, Integer> after = Hygiene.openDescriptors();
        assertThat(Hygiene.socketsConnectedTo(server.port())).as("our sockets to the server").isEqualTo(8);
        assertThat(after.get("epoll")).as("epoll descriptors").isEqualTo(before.get("epoll"));
        assertThat(after.get("eventfd")).as("eventfd descriptors").isEqualTo(before.get("eventfd"));
    }

    @Test
    void aPeerThatStopsReadingEndsATlsWriteWithinItsBound() throws Exception {
        server = RawServer.start(BlockingIoTest::tlsThenNothing);
        assertStuckWriteTimesOut(connect(tlsConnector()));
    }

    @Test
    void aPeerThatStopsReadingEndsAPlainWriteWithinItsBound() throws Exception {
        server = RawServer.start(raw -> Thread.sleep(TimeUnit.MINUTES.toMillis(1)));
        assertStuckWriteTimesOut(connect(new NioConnector(http(server.port()))));
    }

    private void assertStuckWriteTimesOut(Connection c) throws Exception {
        ByteBuffer lots = ByteBuffer.allocate(64 * 1024 * 1024); // far more than both sockets buffer
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        long start = System.nanoTime();
        Thread writer = new Thread(() -> {
            try {
                c.write(lots, SHORT);
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        }, "stuck-writer");
        writer.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> failure.isDone() || blockedIn(writer, "write0"));
        assertNoMonitorHeld(writer);
        assertThat(failure.get(5, TimeUnit.SECONDS)).isExactlyInstanceOf(SocketTimeoutException.class)
                .hasMessageContaining("127.0.0.1:" + server.port())
                .hasMessageContaining("300 ms (responseTimeout)");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(300L, 300L + SLACK_MS);
        assertThat(c.isOpen()).as("aborted by the watchdog").isFalse();
        writer.join(5_000);
    }

    @Test
    void aThreadBlockedInAReadHoldsNoMonitorAndTimesOutAtItsDeadline() throws Exception {
        server = RawServer.start(BlockingIoTest::tlsThenNothing);
        NioConnector connector = tlsConnector();
        Connection c = connect(connector);
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        long start = System.nanoTime();
        Thread reader = new Thread(() -> {
            try {
                c.read(ByteBuffer.allocate(100), TimeUnit.SECONDS.toNanos(2));
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        }, "blocked-reader");
        reader.start();
        TlsConnectionFaultTest.awaitBlockedInRead(reader);
        assertNoMonitorHeld(reader);
        assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(ResponseTimeoutException.class)
                .hasMessageContaining("2000 ms");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(2_000L, 2_000L + SLACK_MS);
        assertThat(connector.aborts()).as("the watchdog's abort, counted once").isEqualTo(1);
        c.abort();
        assertThat(connector.aborts()).isEqualTo(1);
        reader.join(5_000);
    }

    @Test
    void manyConnectionsEachTimeOutAtItsOwnDeadlineAndNotBefore() throws Exception {
        server = RawServer.start(raw -> raw.getInputStream().read());
        NioConnector connector = new NioConnector(http(server.port()));
        long[] timeoutsMs = {900, 300, 750, 450, 600, 200};
        Connection[] cs = new Connection[timeoutsMs.length];
        for (int i = 0; i < cs.length; i++) {
            cs[i] = connect(connector);
        }
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Long>> tookMs = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < cs.length; i++) {
            Connection c = cs[i];
            long timeout = TimeUnit.MILLISECONDS.toNanos(timeoutsMs[i]);
            CompletableFuture<Long> took = new CompletableFuture<>();
            tookMs.add(took);
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    long start = System.nanoTime();
                    try {
                        c.read(ByteBuffer.allocate(10), timeout);
                        took.completeExceptionally(new AssertionError("read returned"));
                    } catch (ResponseTimeoutException e) {
                        took.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                    }
                } catch (Throwable e) {
                    took.completeExceptionally(e);
                }
            }, "reader-" + timeoutsMs[i]);
            t.start();
            readers.add(t);
        }
        go.countDown();
        for (int i = 0; i < cs.length; i++) {
            assertThat(tookMs.get(i).get(5, TimeUnit.SECONDS)).as("the read with a %d ms timeout", timeoutsMs[i])
                    .isBetween(timeoutsMs[i], timeoutsMs[i] + SLACK_MS);
            assertThat(cs[i].isOpen()).isFalse();
        }
        assertThat(connector.aborts()).isEqualTo(timeoutsMs.length);
        for (Thread t : readers) {
            t.join(5_000);
        }
    }

    @Test
    void exchangesOneAfterTheOtherDoNotWakeTheWatchdog() throws Exception {
        // One caller's exchanges one after the other, each deadline armed later than the one before:
        // the watchdog sleeps towards the earliest it saw (5 s away) and is not woken by later ones.
        server = RawServer.start(raw -> {
            while (true) {
                RawServer.readHead(raw.getInputStream());
                raw.getOutputStream().write(RawServer.response("ok"));
            }
        });
        Connection c = connect(new NioConnector(http(server.port())));
        assertThat(Http.get(c, "127.0.0.1")).isEqualTo("ok");
        long scansBefore = Watchdog.SHARED.scans();
        long start = System.nanoTime();
        int exchanges = 300;
        for (int i = 0; i < exchanges; i++) {
            assertThat(Http.get(c, "127.0.0.1")).isEqualTo("ok"); // 5 s timeouts
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        assertThat(Watchdog.SHARED.scans() - scansBefore).as("watchdog scans during %d exchanges in %d s",
                exchanges, seconds).isLessThanOrEqualTo(seconds / 4 + 3);
    }

    @Test
    void theWatchdogThreadLivesOnlyWhileConnectionsAreOpen() throws Exception {
        server = RawServer.start(raw -> raw.getInputStream().read());
        NioConnector connector = new NioConnector(http(server.port()));
        assertThat(Hygiene.berthThreads()).as("before any connection").isEmpty();
        Connection a = connect(connector);
        Connection b = connect(connector);
        assertThat(Hygiene.berthThreads()).containsExactly("berth-watchdog");
        a.close();
        assertThat(Hygiene.berthThreads()).as("one connection left").containsExactly("berth-watchdog");
        b.close();
        await().atMost(Duration.ofSeconds(2)).until(() -> Hygiene.berthThreads().isEmpty());
        Connection c = connect(connector);
        assertThat(Hygiene.berthThreads()).as("started again on demand").containsExactly("berth-watchdog");
        assertThatThrownBy(() -> c.read(ByteBuffer.allocate(1), SHORT)).isInstanceOf(ResponseTimeoutException.class);
        await().atMost(Duration.ofSeconds(2)).until(() -> Hygiene.berthThreads().isEmpty());
    }

    @Test
    void aDedicatedReaderWithoutDeadlineAndAWriterRunAtOnce() throws Exception {
        // An echo server: without a reader draining the echo while the writer writes, both sides'
        // buffers fill and the write never ends. Halfway, the server asks for a TLS 1.3 KeyUpdate,
        // which the blocked reader sees and the next write answers.
        int total = 8 * 1024 * 1024;
        server = RawServer.start(raw -> {
            SSLSocket tls = RawServer.tls(raw, SERVER_TLS);
            InputStream in = tls.getInputStream();
            OutputStream out = tls.getOutputStream();
            byte[] buf = new byte[16 * 1024];
            long echoed = 0;
            boolean keyUpdated = false;
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                echoed += n;
                if (!keyUpdated && echoed >= total / 2) {
                    tls.startHandshake(); // TLS 1.3: a KeyUpdate asking for ours
                    keyUpdated = true;
                }
            }
        });
        DuplexConnection c = (DuplexConnection) connect(tlsConnector());
        byte[] sent = new byte[total];
        new Random(42).nextBytes(sent);
        ByteArrayOutputStream received = new ByteArrayOutputStream(total);
        CompletableFuture<Throwable> readerDone = new CompletableFuture<>();
        Thread reader = ConnectionReader.start("test-reader", () -> {
            try {
                ByteBuffer dst = ByteBuffer.allocate(32 * 1024);
                while (received.size() < total) {
                    int n = c.readNoDeadline(dst.clear());
                    if (n < 0) {
                        throw new AssertionError("end of stream after " + received.size());
                    }
                    received.write(dst.array(), 0, n);
                }
                readerDone.complete(null);
            } catch (Throwable t) {
                readerDone.complete(t);
            }
        });
        assertThat(reader.getName()).isEqualTo("berth-test-reader");
        assertThat(isVirtual(reader)).isEqualTo(Runtime.version().feature() >= 21);
        assertThat(reader.isDaemon()).isTrue();
        c.write(ByteBuffer.wrap(sent), TimeUnit.SECONDS.toNanos(10));
        assertThat(readerDone.get(20, TimeUnit.SECONDS)).isNull();
        assertThat(Arrays.equals(received.toByteArray(), sent)).as("the echo is what was sent").isTrue();
        c.write(ByteBuffer.wrap(new byte[] {1}), TimeUnit.SECONDS.toNanos(10)); // under the new keys
        assertThat(c.read(ByteBuffer.allocate(1), TimeUnit.SECONDS.toNanos(10))).isEqualTo(1);
        assertThat(server.failures()).isEmpty();
        reader.join(5_000);
    }

    @Test
    void abortEndsAReaderWithoutDeadlineAtOnce() throws Exception {
        server = RawServer.start(BlockingIoTest::tlsThenNothing);
        DuplexConnection c = (DuplexConnection) connect(tlsConnector());
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread reader = ConnectionReader.start("test-reader", () -> {
            try {
                c.readNoDeadline(ByteBuffer.allocate(100));
                failure.complete(null);
            } catch (Throwable t) {
                failure.complete(t);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> blockedInRead(reader));
        assertThat(failure).as("no deadline: still waiting").isNotDone();
        assertThat(c.liveness()).as("a reader is busy: alive, without looking").isEqualTo(Connection.Liveness.ALIVE);
        long start = System.nanoTime();
        c.abort();
        assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(SocketException.class)
                .hasMessageContaining("127.0.0.1:" + server.port());
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(SLACK_MS);
        reader.join(5_000);
    }

    @Test
    void aVirtualThreadBlockedInAReadIsEndedByTheWatchdogByAbortAndByAnInterrupt() throws Exception {
        Assumptions.assumeTrue(ConnectionReader.virtual(), "virtual threads need JDK 21 or later");
        server = RawServer.start(BlockingIoTest::tlsThenNothing);
        NioConnector connector = tlsConnector();

        Connection timesOut = connect(connector);
        CompletableFuture<Throwable> timeout = readOnVirtualThread(timesOut, SHORT, null);
        assertThat(timeout.get(5, TimeUnit.SECONDS)).isInstanceOf(ResponseTimeoutException.class);

        Connection aborted = connect(connector);
        CountDownLatch blocked = new CountDownLatch(1);
        CompletableFuture<Throwable> abort = readOnVirtualThread(aborted, TimeUnit.SECONDS.toNanos(10), blocked);
        blocked.await(5, TimeUnit.SECONDS);
        Thread.sleep(100); // let it reach the park: either way the abort must end it
        aborted.abort();
        assertThat(abort.get(5, TimeUnit.SECONDS)).isInstanceOf(SocketException.class);

        Connection interrupted = connect(connector);
        AtomicBoolean flag = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Throwable> interrupt = new CompletableFuture<>();
        Thread vt = ConnectionReader.start("interrupted", () -> {
            started.countDown();
            try {
                interrupted.read(ByteBuffer.allocate(10), TimeUnit.SECONDS.toNanos(10));
                interrupt.complete(null);
            } catch (Throwable t) {
                flag.set(Thread.currentThread().isInterrupted());
                interrupt.complete(t);
            }
        });
        started.await(5, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> Arrays.stream(vt.getStackTrace())
                .anyMatch(f -> f.getMethodName().equals("park")));
        vt.interrupt();
        assertThat(interrupt.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedIOException.class)
                .hasMessageContaining("127.0.0.1:" + server.port());
        assertThat(flag).as("the interrupt flag stays set").isTrue();
    }

    private static CompletableFuture<Throwable> readOnVirtualThread(Connection c, long timeoutNanos,
            CountDownLatch started) {
        CompletableFuture<Throwable> result = new CompletableFuture<>();
        ConnectionReader.start("vt-read", () -> {
            if (started != null) {
                started.countDown();
            }
            try {
                c.read(ByteBuffer.allocate(10), timeoutNanos);
                result.complete(null);
            } catch (Throwable t) {
                result.complete(t);
            }
        });
        return result;
    }

    /** A thread blocked in a socket read or write must hold no monitor (it would pin on JDK 21). */
    static void assertNoMonitorHeld(Thread t) {
        ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(new long[] {t.getId()}, true, false)[0];
        if (info == null) {
            return; // ended meanwhile
        }
        assertThat(Arrays.stream(info.getLockedMonitors()).map(MonitorInfo::toString))
                .as("monitors held by %s, blocked at %s", t.getName(), Arrays.toString(info.getStackTrace()))
                .isEmpty();
    }

    private static boolean blockedIn(Thread t, String nativeMethod) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals("sun.nio.ch.SocketDispatcher")
                && f.getMethodName().equals(nativeMethod));
    }

    private static boolean blockedInRead(Thread t) {
        return blockedIn(t, "read0") || Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("park"));
    }

    private static boolean isVirtual(Thread t) throws Exception {
        if (Runtime.version().feature() < 21) {
            return false;
        }
        return (boolean) Thread.class.getMethod("isVirtual").invoke(t);
    }
}
