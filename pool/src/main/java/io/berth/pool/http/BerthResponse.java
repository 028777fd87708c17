package io.berth.pool.http;

import io.berth.HttpProtocolException;
import io.berth.transport.http1.HeaderFields;
import io.berth.transport.http1.ResponseBody;
import io.berth.transport.http1.ResponseHead;
import io.berth.transport.http2.Http2Headers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.GZIPInputStream;

/**
 * A response from a {@link BerthClient}: status, headers, and a body streamed from the connection.
 *
 * <p>The connection goes back to the pool when the body has been read to its end or the response is
 * {@linkplain #close() closed}, not before: always close it, e.g. with try-with-resources. A small body
 * that arrived whole with its head (at most 16 KiB: on HTTP/1.1 framed by {@code Content-Length}, on
 * HTTP/2 a stream that ended without trailers), and a response without a body, let the connection
 * (or the stream) go before {@link BerthClient#send} returns; the body is then read from memory. A
 * body that ends early throws {@link io.berth.TruncatedBodyException}; it is never passed off as
 * complete.
 * With gzip decoding on (the default), a gzip body is decoded and {@code Content-Encoding} and
 * {@code Content-Length} are removed from the headers.
 *
 * <p>Not thread-safe: read and close it from one thread at a time.
 */
public final class BerthResponse implements AutoCloseable {
    private final ResponseHead head;
    /**
     * The header fields; for an HTTP/2 response null until {@link #fields()} copied them from
     * {@link #head2} (single lookups read that list directly, so most responses never copy it).
     */
    private HeaderFields headers;
    /** The HTTP/2 response head whose regular fields are the headers, or null. */
    private final Http2Headers head2;
    /** The HTTP/1.1 body still on its connection, or null. */
    private final ResponseBody raw;
    /** The HTTP/2 body, or null. */
    private final Http2Body stream2;
    /**
     * The whole body, taken with the head (its connection or stream already went back to the pool), or
     * null: then {@link #raw} or {@link #stream2} is the body.
     */
    private final byte[] arrived;
    /**
     * What the body is read from: {@link #raw} or {@link #stream2}, possibly decoding gzip, or a
     * stream over {@link #arrived}, made when first needed.
     */
    private InputStream body;
    /** Whether the response was closed (or its arrived body handed out whole). */
    private boolean closed;
    /**
     * What {@link #body()} hands out, made by its first call: it keeps this response reachable while
     * the caller reads ({@link #bodyBytes()} reads {@link #body} itself).
     */
    private InputStream stream;
    private final long connectionId;
    private final boolean reused;

    BerthResponse(ResponseHead head, HeaderFields headers, ResponseBody raw, InputStream body, long connectionId,
            boolean reused) {
        this(head, headers, null, raw, null, null, body, connectionId, reused);
    }

    /**
     * A response whose whole body arrived with the head: its connection (or its HTTP/2 stream) already
     * went back.
     *
     * @param headers the header fields, or null to read them from {@code head2}
     * @param head2 the HTTP/2 response head, or null
     * @param gzip whether to decode the body from gzip (the headers are then the decoded ones)
     * @throws IOException if a gzip body's header is invalid
     */
    static BerthResponse arrived(ResponseHead head, HeaderFields headers, Http2Headers head2, byte[] body,
            boolean gzip, long connectionId, boolean reused) throws IOException {
        BerthResponse r = new BerthResponse(head, headers, head2, null, null, body, null, connectionId, reused);
        if (gzip) {
            r.body = new GZIPInputStream(r.new ArrivedBody(), 8192);
        }
        return r;
    }

    /**
     * An HTTP/2 response: its header fields are {@code headers} if given, else the regular fields of
     * {@code head2}.
     */
    BerthResponse(ResponseHead head, HeaderFields headers, Http2Headers head2, Http2Body raw, InputStream body,
            long connectionId, boolean reused) {
        this(head, headers, head2, null, raw, null, body, connectionId, reused);
    }

    private BerthResponse(ResponseHead head, HeaderFields headers, Http2Headers head2, ResponseBody raw,
            Http2Body stream2, byte[] arrived, InputStream body, long connectionId, boolean reused) {
        this.head = head;
        this.headers = headers;
        this.head2 = head2;
        this.raw = raw;
        this.stream2 = stream2;
        this.arrived = arrived;
        this.body = body;
        this.connectionId = connectionId;
        this.reused = reused;
    }

    /** @return the status code, 200 to 599 */
    public int status() {
        return head.statusCode();
    }

    /** @return the reason phrase, possibly empty */
    public String reason() {
        return head.reasonPhrase();
    }

    /** @return {@code HTTP/1.1}, {@code HTTP/1.0}, or {@code HTTP/2} */
    public String version() {
        return head.version().toString();
    }

    /** @return the header fields by case-insensitive name, values in the order received */
    public Map<String, List<String>> headers() {
        return fields().toMap();
    }

    private HeaderFields fields() {
        HeaderFields h = headers;
        if (h == null) {
            h = headers = Http2Client.fields(head2);
        }
        return h;
    }

    /**
     * @param name a header name, in any case
     * @return its first value, or {@code null} if absent
     */
    public String header(String name) {
        HeaderFields h = headers;
        return h != null ? h.first(name) : Http2Client.first(head2, name);
    }

    /**
     * @return the body's length in bytes as the server framed it, or -1 if unknown (chunked, until
     *     close, or decoded from gzip)
     */
    public long contentLength() {
        if (raw != null) {
            return body == raw ? raw.contentLength() : -1;
        }
        if (stream2 != null) {
            return body == stream2 ? stream2.contentLength() : -1;
        }
        return body instanceof GZIPInputStream ? -1 : arrived.length;
    }

    /**
     * @return the body, streamed; closing it closes the response, releasing the connection if the
     *     response still holds it
     */
    public InputStream body() {
        InputStream s = stream;
        return s != null ? s : (stream = new BodyStream(source()));
    }

    private InputStream source() {
        InputStream b = body;
        return b != null ? b : (body = new ArrivedBody());
    }

    /** An arrived body, read from memory; like a body on its connection, it cannot be read once closed. */
    private final class ArrivedBody extends InputStream {
        private int next;

        @Override
        public int read() throws IOException {
            checkOpen();
            return next < arrived.length ? arrived[next++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            checkOpen();
            if (len == 0) {
                return 0;
            }
            int n = Math.min(len, arrived.length - next);
            if (n <= 0) {
                return -1;
            }
            System.arraycopy(arrived, next, b, off, n);
            next += n;
            return n;
        }

        @Override
        public int available() {
            return closed ? 0 : arrived.length - next;
        }

        private void checkOpen() throws IOException {
            if (closed) {
                throw new IOException("response body is closed");
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /**
     * The body as handed out. Being an inner class it holds the response: the pool watches the
     * response weakly and reclaims the connection only when neither is reachable any more.
     */
    private final class BodyStream extends java.io.FilterInputStream {
        BodyStream(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return in.read(b, off, len);
        }

        @Override
        public long transferTo(java.io.OutputStream out) throws IOException {
            return in.transferTo(out);
        }

        @Override
        public void close() {
            BerthResponse.this.close();
        }
    }

    /**
     * Reads the whole body and closes the response.
     *
     * @return the body's bytes
     * @throws IOException if reading failed (the body is then not complete)
     */
    public byte[] bodyBytes() throws IOException {
        if (body == null && !closed) { // arrived whole and not streamed yet: it is the answer
            closed = true;
            return arrived;
        }
        try (InputStream in = source()) {
            long length = contentLength();
            if (length < 0 || length > Integer.MAX_VALUE - 8) {
                return in.readAllBytes();
            }
            // Known length: read straight into an array of that size (readAllBytes would buffer 8 KiB).
            byte[] bytes = new byte[(int) length];
            int n = in.readNBytes(bytes, 0, bytes.length);
            if (n < bytes.length) {
                return Arrays.copyOf(bytes, n); // as readNBytes(int): what there was
            }
            if (in.read() != -1) {
                throw new HttpProtocolException("response body longer than its Content-Length "
                        + length);
            }
            return bytes;
        }
    }

    /**
     * Reads the whole body as text and closes the response.
     *
     * @return the body decoded with the charset of {@code Content-Type}, or UTF-8
     * @throws IOException if reading failed
     */
    public String bodyString() throws IOException {
        return new String(bodyBytes(), charset());
    }

    private Charset charset() {
        String type = header("Content-Type");
        if (type != null) {
            int i = type.toLowerCase(java.util.Locale.ROOT).indexOf("charset=");
            if (i >= 0) {
                String cs = type.substring(i + 8).trim();
                int end = cs.indexOf(';');
                cs = (end >= 0 ? cs.substring(0, end) : cs).replace("\"", "").trim();
                try {
                    return Charset.forName(cs);
                } catch (RuntimeException e) {
                    return StandardCharsets.UTF_8;
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    /**
     * @return the trailer fields of a chunked body, once the body has been read to its end
     * @throws IllegalStateException if the body's end was not reached
     */
    public Map<String, List<String>> trailers() {
        if (raw == null && stream2 == null) {
            return Map.of(); // arrived whole: taken only without trailers
        }
        return raw != null ? raw.trailers().toMap() : stream2.trailers().toMap();
    }

    /** @return the pool's id of the connection that carried the exchange */
    public long connectionId() {
        return connectionId;
    }

    /** @return whether that connection had carried an exchange before */
    public boolean connectionReused() {
        return reused;
    }

    /**
     * Closes the body, releasing the connection: if the body was not read to its end, its rest is
     * drained when that is small and quick, and otherwise the connection is closed. Idempotent.
     */
    @Override
    public void close() {
        try {
            if (body != null) {
                body.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            closed = true;
            if (raw != null) {
                raw.close();
            } else if (stream2 != null) {
                stream2.close();
            }
        }
    }

    @Override
    public String toString() {
        return "BerthResponse{" + version() + " " + status() + " " + reason() + ", connection #" + connectionId
                + (reused ? " (reused)" : "") + "}";
    }
}
