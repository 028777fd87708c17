package io.berth.transport.http1;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a {@link RequestBody} writes its bytes. The connection buffers them and frames them
 * ({@code Content-Length} or chunked); a small body goes out in the same write as the request head.
 *
 * <p>Valid only during {@link RequestBody#writeTo(BodySink)}: using it afterwards throws
 * {@link IllegalStateException}. Not thread-safe.
 */
public interface BodySink {
    /**
     * Writes {@code len} bytes of {@code src} from {@code off}.
     *
     * @param src the bytes
     * @param off where in {@code src} to start
     * @param len how many bytes to write
     * @throws IOException if the connection failed or the server did not read in time
     * @throws IllegalStateException if the body writes more than its {@link RequestBody#contentLength()},
     *     or the sink is used after {@code writeTo} returned
     * @throws IndexOutOfBoundsException if {@code off} and {@code len} are out of bounds
     */
    void write(byte[] src, int off, int len) throws IOException;

    /**
     * Writes the remaining bytes of {@code src}, advancing its position to its limit.
     *
     * @param src the bytes
     * @throws IOException if the connection failed or the server did not read in time
     * @throws IllegalStateException if the body writes more than its {@link RequestBody#contentLength()},
     *     or the sink is used after {@code writeTo} returned
     */
    void write(ByteBuffer src) throws IOException;
}
