/**
 * TCP and TLS connections: a {@link io.berth.spi.Connector} over {@code SocketChannel}s in blocking
 * mode and {@code SSLEngine}, with one {@code SSLContext} (and so one TLS session cache) per TLS
 * profile. Internal: exported only to {@code io.berth.pool}.
 *
 * <h2>The I/O model</h2>
 *
 * <p>A connection is one file descriptor: a {@code SocketChannel} in blocking mode, no selector. A
 * thread that waits for a response waits in {@code read}: a platform thread sleeps in the kernel, a
 * virtual thread is parked by the JDK (on JDK 21 as on 25; a {@code Selector.select} would instead
 * hold the carrier on JDK 21). A small exchange is two syscalls, {@code write} and {@code read}.
 *
 * <p>Every bounded wait (connect, TLS handshake, a read awaiting a response, a write to a peer that
 * stopped reading) is enforced by one daemon thread for all connections, {@code berth-watchdog}
 * ({@code Watchdog}): the waiting thread arms a deadline (a volatile store, no lock,
 * no allocation) and disarms it after (a CAS); the watchdog sleeps until the earliest deadline it
 * knows and aborts (resets) a connection whose deadline passed, which wakes the blocked thread; the
 * connection then reports the timeout it was ({@link io.berth.ResponseTimeoutException},
 * {@link io.berth.HandshakeTimeoutException}, {@link io.berth.ConnectTimeoutException}, or a
 * {@link java.net.SocketTimeoutException} naming {@code responseTimeout} for a write), never a close
 * by the peer. The thread runs while any connection is open and ends shortly after the last one
 * closed. {@link io.berth.spi.Connection#abort()} from any thread (cancellation, pool close) resets
 * the socket, which wakes a blocked thread at once with a {@link java.net.SocketException}. An
 * interrupt of a thread blocked in I/O closes the channel (the JDK's rule, on platform and virtual
 * threads): the operation fails with an {@link java.io.InterruptedIOException}, the interrupt flag
 * stays set, and the connection is broken. The liveness look before a reuse switches the channel to
 * non-blocking mode for one {@code read}; {@code bufferedLiveness()} makes no syscall.
 *
 * <p>No {@code synchronized} block is held across a blocking operation: the read and write sides and
 * the watchdog's registry use {@link java.util.concurrent.locks.ReentrantLock}s, the
 * {@link io.berth.transport.BufferPool} is lock-free, and the JDK's paths we call (a blocking
 * {@code SocketChannel} read, write or connect; {@code SSLEngine} wrap and unwrap) hold no monitor
 * while they block: their own locks are {@code java.util.concurrent} ones, and the JDK's monitors
 * there guard a few field updates only. {@code BlockingIoTest} checks that a thread blocked in a read
 * or a write holds no monitor.
 *
 * <h2>HTTP/2: one reader per connection</h2>
 *
 * <p>A connection has a read side and a write side, each used by one thread at a time, both at once
 * allowed ({@link io.berth.transport.DuplexConnection}). An HTTP/2 connection gets one reader for its
 * whole life, started with {@link io.berth.transport.ConnectionReader#start}: a virtual thread on JDK
 * 21 and later (found at run time), a platform daemon thread named {@code berth-...} on 17. It waits
 * in {@link io.berth.transport.DuplexConnection#readNoDeadline} (no deadline: it is ended by the
 * server's close, an abort, or a close of the connection), decodes frames and hands each to the
 * stream it belongs to, waking each stream's caller once per read; callers write their frames from
 * their own threads, combined: each appends to the connection's output and writes it only if no other
 * caller is writing (who then takes it along), so one {@code write} carries the frames of many callers.
 *
 * <p>Why a dedicated reader rather than callers taking turns at reading: HTTP/2 must be read at all
 * times, also when no caller waits (SETTINGS and their acknowledgement, PING, WINDOW_UPDATE that
 * unblocks our writers, GOAWAY, RST_STREAM), so callers taking turns would still need a reader for the
 * moments between them, and a hand-over of the read role on every frame that belongs to another
 * stream; with a dedicated reader each response costs one hand-off (an unpark) and the read role never
 * moves. On JDK 21 and later the reader is a virtual thread: a parked one holds no carrier and a few
 * hundred bytes of stack, so one per connection costs next to nothing; on 17 it is one platform thread
 * per connection, the price every blocking HTTP/2 client pays there. This was argued, not measured.
 */
package io.berth.transport;
