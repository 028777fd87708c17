package io.berth.transport;

import io.berth.spi.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A {@link Connection} whose read side and write side may be used by two threads at once: the seam
 * for HTTP/2, where one reader per connection stays blocked in {@link #readNoDeadline} for the
 * connection's whole life, demultiplexing frames to the callers, while the callers write their
 * frames with {@link #write} from their own threads. Every connection {@link NioConnector} opens is
 * one (cast the result of {@code connect}).
 *
 * <p>Threads: one thread at a time reads ({@link #read} or {@link #readNoDeadline}), one thread at a
 * time writes; a read and a write may run at once. Writers must take turns themselves (an HTTP/2
 * frame must go out whole). {@link #abort()} from any thread ends both at once. {@link #close()}
 * closes gracefully only when neither side is in use; with the reader still blocked in
 * {@link #readNoDeadline} it aborts, which also ends the reader. To close gracefully with the reader
 * blocked, an HTTP/2 connection hands its GOAWAY to {@link #closeOutput}, which writes it, a
 * close_notify and a FIN: the server answers our close with its own, the reader's read returns -1, and
 * the reader calls {@link #close()}, graceful then. {@link #liveness()} with a reader blocked says
 * {@link Liveness#ALIVE} without looking: the reader sees everything the server sends.
 *
 * <p>Start the reader with {@link ConnectionReader#start}.
 */
public interface DuplexConnection extends Connection {
    /**
     * Reads at least one byte into {@code dst}, waiting as long as it takes: only the end of the
     * stream, {@link #abort()} (or a close), or an interrupt of the reading thread end the wait; no
     * deadline is armed. A TLS 1.3 KeyUpdate that asks for ours is answered by the next write (TLS
     * allows that: the answer must precede our next application data, which it does).
     *
     * @param dst where to put the bytes; must have space remaining
     * @return how many bytes were read (at least 1), or -1 at the end of the stream
     * @throws java.net.SocketException naming the server if the connection was aborted or closed
     * @throws java.io.InterruptedIOException if the thread was interrupted; its flag stays set and
     *     the connection is broken
     * @throws IOException if the connection failed
     */
    int readNoDeadline(ByteBuffer dst) throws IOException;

    /**
     * Starts a graceful close while a reader may be blocked in {@link #readNoDeadline}: writes
     * {@code last} (an HTTP/2 GOAWAY), then a TLS close_notify (for TLS) and a FIN, all under the write
     * side's lock, after which nothing more can be written; leaves the read side alone, so that the
     * reader sees the server's own close (its read returns -1) and then calls {@link #close()}, which
     * is graceful then (it waits for this call if the server answered before our FIN was out). If the
     * connection is not closed within {@code lingerNanos} (a server that does not close its side),
     * the watchdog aborts it, which ends the reader. Waits for a writer under way; the writes
     * themselves are bounded by {@code lingerNanos}.
     *
     * @param last bytes to write first, from position to limit, or {@code null}
     * @param lingerNanos how long the connection may stay open after this call; positive
     * @return {@code true} if {@code last}, the close_notify and FIN were written; {@code false} if
     *     the connection was closed already or failed (it is aborted then)
     * @throws IllegalArgumentException if {@code lingerNanos} is not positive
     */
    boolean closeOutput(ByteBuffer last, long lingerNanos);
}
