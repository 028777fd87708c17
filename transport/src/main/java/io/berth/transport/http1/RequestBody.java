package io.berth.transport.http1;

import java.io.IOException;
import java.util.Objects;

/**
 * The body of a request, streamed by its owner into a {@link BodySink}.
 *
 * <p>Implementations decide their own thread-safety; the connection calls them from the thread that
 * writes the request.
 */
public interface RequestBody {
    /**
     * @return the body's length in bytes, sent as {@code Content-Length}; or -1 if unknown, in which
     *     case the body is sent with {@code Transfer-Encoding: chunked}
     */
    long contentLength();

    /**
     * Writes the whole body. Called at most once per request (not at all when the server answers a
     * {@code 100-continue} expectation with a final response).
     *
     * @param sink where to write; valid only until this method returns
     * @throws IOException if reading the body's source or writing to the connection failed
     */
    void writeTo(BodySink sink) throws IOException;

    /**
     * A body of the given bytes, which are not copied: they must not change until the request is sent.
     *
     * @param bytes the body
     * @return the body, with a known length
     * @throws NullPointerException if {@code bytes} is null
     */
    static RequestBody of(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        return new RequestBody() {
            @Override
            public long contentLength() {
                return bytes.length;
            }

            @Override
            public void writeTo(BodySink sink) throws IOException {
                sink.write(bytes, 0, bytes.length);
            }
        };
    }
}
