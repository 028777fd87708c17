package io.berth.pool.http;

import io.berth.Session;
import io.berth.transport.http1.HeaderFields;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * An HTTP request for a {@link BerthClient}: a method, a target ({@code /path?query}), header
 * fields, an optional body, and what the pool needs to know to reuse connections safely.
 *
 * <p>A request is <b>replayable</b> if sending it twice is harmless: by default when its method is
 * idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) and its body, if any, can be sent again; with
 * {@code idempotencyKeyReplayable} on, also when it carries an {@code Idempotency-Key} header; or
 * whatever {@link Builder#replayable(boolean)} says. Replayable requests may reuse any idle
 * connection the {@link io.berth.ReusePolicy} allows and are retried once on a new connection if a
 * reused one fails before any response byte; others are never sent twice.
 *
 * <p>Immutable and thread-safe (a streamed body can be sent once).
 */
public final class BerthRequest {

    private final String method;
    private final String target;
    private final HeaderFields headers;
    private final Body body;
    private final Boolean replayable;
    private final Session session;
    private final Duration timeout;
    private final Duration responseTimeout;
    private final boolean idempotencyKey;
    private final boolean acceptEncodingSet;
    /** The headers as last sent (with Host and Accept-Encoding), cached for requests sent repeatedly. */
    private volatile SentHeaders sent;
    /**
     * The headers last sent for a request without headers of its own, shared by all requests: most
     * calls build a new request with none, to the same host.
     */
    private static volatile SentHeaders lastBare;

    private BerthRequest(Builder b) {
        this.method = b.method;
        this.target = b.target;
        this.headers = b.headers == null ? HeaderFields.EMPTY : b.headers.build();
        this.body = b.body;
        this.replayable = b.replayable;
        this.session = b.session;
        this.timeout = b.timeout;
        this.responseTimeout = b.responseTimeout;
        this.idempotencyKey = headers.contains("Idempotency-Key");
        this.acceptEncodingSet = headers.contains("Accept-Encoding");
    }

    /**
     * @param method the method, e.g. {@code GET}, {@code POST} (any token; sent as given)
     * @param target the request target, {@code /path?query}
     * @return a builder
     * @throws IllegalArgumentException if the method is not a token or the target does not start with
     *     {@code /}, or holds a space or control character
     */
    public static Builder newBuilder(String method, String target) {
        return new Builder(method, target);
    }

    /**
     * @param target the request target, {@code /path?query}
     * @return a GET request without body
     */
    public static BerthRequest get(String target) {
        return newBuilder("GET", target).build();
    }

    /**
     * A POST: not replayable (unless {@code idempotencyKeyReplayable} is on and it carries an
     * {@code Idempotency-Key}), so under the default {@code SAFE} policy it never reuses an idle
     * connection and opens a new one; see {@link io.berth.ReusePolicy}.
     *
     * <pre>{@code
     * BerthRequest.post("/v1/orders", "application/json", Body.of("{\"sku\":\"a-1\"}"));
     * BerthRequest.post("/v1/upload", "application/octet-stream", Body.of(bytes));
     * BerthRequest.post("/v1/notes", "text/plain; charset=ISO-8859-1", Body.of(text, StandardCharsets.ISO_8859_1));
     * }</pre>
     *
     * @param target the request target, {@code /path?query}
     * @param contentType the {@code Content-Type} header, or {@code null} for none
     * @param body the body: {@link Body#of(byte[])}, {@link Body#of(String)}, {@link Body#of(String, Charset)},
     *     {@link Body#ofStream}, {@link Body#ofStreams}, or your own
     * @return a POST request
     * @throws IllegalArgumentException if the target or content type is invalid
     * @throws NullPointerException if {@code target} or {@code body} is null
     */
    public static BerthRequest post(String target, String contentType, Body body) {
        return withBody("POST", target, contentType, body);
    }

    /**
     * A PUT: replayable when its body is (the factories' bodies are, except {@link Body#ofStream}).
     *
     * @param target the request target, {@code /path?query}
     * @param contentType the {@code Content-Type} header, or {@code null} for none
     * @param body the body
     * @return a PUT request
     * @throws IllegalArgumentException if the target or content type is invalid
     * @throws NullPointerException if {@code target} or {@code body} is null
     */
    public static BerthRequest put(String target, String contentType, Body body) {
        return withBody("PUT", target, contentType, body);
    }

    /**
     * A PATCH: not idempotent, so not replayable, like a POST.
     *
     * @param target the request target, {@code /path?query}
     * @param contentType the {@code Content-Type} header, or {@code null} for none
     * @param body the body
     * @return a PATCH request
     * @throws IllegalArgumentException if the target or content type is invalid
     * @throws NullPointerException if {@code target} or {@code body} is null
     */
    public static BerthRequest patch(String target, String contentType, Body body) {
        return withBody("PATCH", target, contentType, body);
    }

    /**
     * @param target the request target, {@code /path?query}
     * @return a DELETE request without body (replayable)
     * @throws IllegalArgumentException if the target is invalid
     */
    public static BerthRequest delete(String target) {
        return newBuilder("DELETE", target).build();
    }

    /**
     * A DELETE with a body (some APIs take one): replayable when its body is.
     *
     * @param target the request target, {@code /path?query}
     * @param contentType the {@code Content-Type} header, or {@code null} for none
     * @param body the body
     * @return a DELETE request
     * @throws IllegalArgumentException if the target or content type is invalid
     * @throws NullPointerException if {@code target} or {@code body} is null
     */
    public static BerthRequest delete(String target, String contentType, Body body) {
        return withBody("DELETE", target, contentType, body);
    }

    private static BerthRequest withBody(String method, String target, String contentType, Body body) {
        Builder b = newBuilder(method, target).body(Objects.requireNonNull(body, "body"));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return b.build();
    }

    /** @return the method */
    public String method() {
        return method;
    }

    /** @return the request target */
    public String target() {
        return target;
    }

    /** @return the header fields, by case-insensitive name, in the order given */
    public Map<String, List<String>> headers() {
        return headers.toMap();
    }

    HeaderFields headerFields() {
        return headers;
    }

    /** @return the body, or {@code null} for none */
    public Body body() {
        return body;
    }

    /** @return the session the request runs in, or {@code null} */
    public Session session() {
        return session;
    }

    /**
     * @return the limit from sending to the response head (on top of each read's response timeout),
     *     or {@code null} for none
     */
    public Duration timeout() {
        return timeout;
    }

    /**
     * @return the longest silence tolerated on any read of this request's response, overriding the
     *     pool's {@code responseTimeout}; or {@code null} to use the pool's
     */
    public Duration responseTimeout() {
        return responseTimeout;
    }

    /**
     * @param idempotencyKeyReplayable whether an {@code Idempotency-Key} header makes a request replayable
     * @return whether sending the request twice is harmless (see the class comment)
     */
    public boolean isReplayable(boolean idempotencyKeyReplayable) {
        if (replayable != null) {
            return replayable && (body == null || body.isReplayable());
        }
        if (body != null && !body.isReplayable()) {
            return false;
        }
        return idempotent(method) || (idempotencyKeyReplayable && idempotencyKey);
    }

    /** @return whether the method is idempotent (RFC 9110 §9.2.2): GET, HEAD, OPTIONS, TRACE, PUT, DELETE */
    private static boolean idempotent(String method) {
        if (method == "GET") { // the constant get() passes: no hashing for the most common case
            return true;
        }
        switch (method) {
            case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
                return true;
            default:
                return false;
        }
    }

    boolean isHead() {
        return method.equals("HEAD");
    }

    boolean acceptEncodingSet() {
        return acceptEncodingSet;
    }

    /** @return the headers to send to {@code host}, computed once per host and gzip choice */
    HeaderFields headersFor(String hostHeader, boolean addGzip) {
        SentHeaders s = sent;
        if (s != null && s.host.equals(hostHeader) && s.gzip == addGzip) {
            return s.fields;
        }
        boolean bare = headers.size() == 0;
        if (bare) {
            s = lastBare;
            if (s != null && s.host.equals(hostHeader) && s.gzip == addGzip) {
                return s.fields; // a new request without headers of its own: the same fields as the last one
            }
        }
        HeaderFields.Builder b = headers.toBuilder();
        if (!headers.contains("Host")) {
            b.add("Host", hostHeader);
        }
        if (addGzip) {
            b.add("Accept-Encoding", "gzip");
        }
        HeaderFields f = b.build();
        s = new SentHeaders(hostHeader, addGzip, f);
        sent = s;
        if (bare) {
            lastBare = s;
        }
        return f;
    }

    private static final class SentHeaders {
        final String host;
        final boolean gzip;
        final HeaderFields fields;

        SentHeaders(String host, boolean gzip, HeaderFields fields) {
            this.host = host;
            this.gzip = gzip;
            this.fields = fields;
        }
    }

    @Override
    public String toString() {
        return method + " " + target;
    }

    /** Builds a {@link BerthRequest}. Not thread-safe. */
    public static final class Builder {
        private final String method;
        private final String target;
        /** Made by the first header added: most requests add none. */
        private HeaderFields.Builder headers;
        private Body body;
        private Boolean replayable;
        private Session session;
        private Duration timeout;
        private Duration responseTimeout;

        /** The characters of a token (RFC 9110 tchar): visible ASCII but the separators. */
        private static final boolean[] TCHAR = new boolean[127];

        static {
            for (char c = '!'; c < 127; c++) {
                TCHAR[c] = "()<>@,;:\\\"/[]?={}".indexOf(c) < 0;
            }
        }

        private HeaderFields.Builder headers() {
            HeaderFields.Builder h = headers;
            return h != null ? h : (headers = HeaderFields.builder());
        }

        private Builder(String method, String target) {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(target, "target");
            if (method.isEmpty()) {
                throw new IllegalArgumentException("method must be a token but was ''");
            }
            for (int i = 0; i < method.length(); i++) {
                char c = method.charAt(i);
                if (c >= TCHAR.length || !TCHAR[c]) {
                    throw new IllegalArgumentException("method must be a token but was '" + method + "'");
                }
            }
            if (!target.startsWith("/")) {
                throw new IllegalArgumentException("target must start with '/' but was '" + target + "'");
            }
            for (int i = 0; i < target.length(); i++) {
                char c = target.charAt(i);
                if (c <= ' ' || c >= 127) {
                    throw new IllegalArgumentException("target must not hold spaces or control characters but was '"
                            + target + "' (character " + (int) c + " at " + i + ")");
                }
            }
            this.method = method;
            this.target = target;
        }

        /**
         * Adds a header field; a name may be added more than once. {@code Host} defaults to the
         * server's; {@code Content-Length} and {@code Transfer-Encoding} come from the body and must not
         * be set.
         *
         * @param name a token
         * @param value the value, without CR, LF or NUL
         * @return this builder
         * @throws IllegalArgumentException if the name or value is invalid, or the name is
         *     {@code Content-Length} or {@code Transfer-Encoding}
         */
        public Builder header(String name, String value) {
            if (name.equalsIgnoreCase("Content-Length") || name.equalsIgnoreCase("Transfer-Encoding")) {
                throw new IllegalArgumentException("header " + name + " must not be set: the body's length frames it");
            }
            headers().add(name, value);
            return this;
        }

        /**
         * @param body the body; {@code null} for none (the default)
         * @return this builder
         */
        public Builder body(Body body) {
            this.body = body;
            return this;
        }

        /**
         * Overrides whether the request counts as replayable. A body that cannot be sent again keeps it
         * non-replayable whatever this says.
         *
         * @param replayable whether sending it twice is harmless
         * @return this builder
         */
        public Builder replayable(boolean replayable) {
            this.replayable = replayable;
            return this;
        }

        /**
         * @param session the session whose connections the request uses first; {@code null} for none
         * @return this builder
         */
        public Builder session(Session session) {
            this.session = session;
            return this;
        }

        /**
         * @param timeout the limit from sending the request to receiving the response head (including
         *     waiting for a connection); {@code null} for none (the default)
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder timeout(Duration timeout) {
            if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
                throw new IllegalArgumentException("timeout must be positive but was " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * @param timeout the longest silence tolerated on any read of the response (and any write of
         *     the request), instead of the pool's {@code responseTimeout}; {@code null} for the pool's
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder responseTimeout(Duration timeout) {
            if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
                throw new IllegalArgumentException("responseTimeout must be positive but was " + timeout);
            }
            this.responseTimeout = timeout;
            return this;
        }

        /**
         * Asks the server to confirm with {@code 100 Continue} before the body is sent
         * ({@code Expect: 100-continue}).
         *
         * @return this builder
         */
        public Builder expectContinue() {
            headers().set("Expect", "100-continue");
            return this;
        }

        /** @return the request */
        public BerthRequest build() {
            return new BerthRequest(this);
        }
    }

    /**
     * A request body. The factories cover bytes, text and streams; implement it to stream from
     * anywhere. Implementations decide their own thread-safety.
     */
    public interface Body {
        /** @return the length in bytes, or -1 if unknown (then the body is sent chunked) */
        long contentLength();

        /** @return whether {@link #writeTo} can be called again (needed to retry the request) */
        boolean isReplayable();

        /**
         * Writes the body.
         *
         * @param out where to write; do not close it
         * @throws IOException if the source failed, or the connection did
         */
        void writeTo(OutputStream out) throws IOException;

        /**
         * @param bytes the body, not copied: do not change it until the request is sent
         * @return a replayable body of known length
         */
        static Body of(byte[] bytes) {
            return new BytesBody(Objects.requireNonNull(bytes, "bytes"));
        }

        /**
         * @param text the body
         * @return a replayable body of the UTF-8 bytes of {@code text}
         */
        static Body of(String text) {
            return of(text, StandardCharsets.UTF_8);
        }

        /**
         * @param text the body
         * @param charset its encoding
         * @return a replayable body
         */
        static Body of(String text, Charset charset) {
            return of(text.getBytes(charset));
        }

        /**
         * A body streamed once from {@code in}, which is closed afterwards: the request is not replayable.
         *
         * @param in the source
         * @param length its length, or -1 if unknown
         * @return a one-shot body
         */
        static Body ofStream(InputStream in, long length) {
            Objects.requireNonNull(in, "in");
            return new StreamBody(() -> in, length, false);
        }

        /**
         * A body streamed from a new stream each time it is sent, so it can be replayed.
         *
         * @param streams opens the body's source; each stream is closed after use
         * @param length its length, or -1 if unknown
         * @return a replayable body
         */
        static Body ofStreams(Supplier<InputStream> streams, long length) {
            Objects.requireNonNull(streams, "streams");
            return new StreamBody(streams, length, true);
        }
    }

    static final class BytesBody implements Body {
        final byte[] bytes;

        BytesBody(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public long contentLength() {
            return bytes.length;
        }

        @Override
        public boolean isReplayable() {
            return true;
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            out.write(bytes);
        }
    }

    static final class StreamBody implements Body {
        private final Supplier<InputStream> streams;
        private final long length;
        private final boolean replayable;

        StreamBody(Supplier<InputStream> streams, long length, boolean replayable) {
            if (length < -1) {
                throw new IllegalArgumentException("length must be >= 0, or -1 if unknown, but was " + length);
            }
            this.streams = streams;
            this.length = length;
            this.replayable = replayable;
        }

        @Override
        public long contentLength() {
            return length;
        }

        @Override
        public boolean isReplayable() {
            return replayable;
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            try (InputStream in = streams.get()) {
                in.transferTo(out);
            }
        }
    }
}
