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
 * {@link #readNoDeadline} it aborts, which also ends the reader: an HTTP/2 connection sends its
 * GOAWAY with {@link #write} first. {@link #liveness()} with a reader blocked says
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
}
