package io.berth.pool.http;

import io.berth.Backend;
import io.berth.BackendPool;
import io.berth.BackendPoolConfig;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.RequestNotProcessedException;
import io.berth.RequestNotRetriedException;
import io.berth.ResponseTimeoutException;
import io.berth.Server;
import io.berth.Session;
import io.berth.TlsConfig;
import io.berth.pool.Berth;
import io.berth.pool.internal.HostHeader;
import io.berth.pool.internal.PoolAccess;
import io.berth.spi.Attachment;
import io.berth.spi.Connection;
import io.berth.transport.http1.BodySink;
import io.berth.transport.http1.ExchangeListener;
import io.berth.transport.http1.HeaderFields;
import io.berth.transport.http1.Http1Codec;
import io.berth.transport.http1.RequestBody;
import io.berth.transport.http1.ResponseBody;
import io.berth.transport.http1.ResponseHead;
import io.berth.transport.http2.Http2Connection;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * An HTTP client over one {@link BackendPool}: every {@link #send} acquires a connection under the
 * pool's {@link io.berth.ReusePolicy}, writes the request, reads the response head, and hands back
 * a {@link BerthResponse} whose body streams from the connection; the connection returns to the
 * pool when the body is read to its end or the response is closed. A response without a body, or
 * whose whole body (at most 16 KiB: on HTTP/1.1 framed by {@code Content-Length}, on HTTP/2 a
 * stream that ended without trailers) arrived with its head, lets its connection (or stream) go
 * before {@code send} returns, its body then read from memory, with or without a
 * {@link Cancellation} (all of it arrived: a later cancel has nothing to abort, and it stays
 * readable, as bytes that arrived before a cancel always are). It speaks what each connection
 * negotiated: HTTP/1.1, or HTTP/2 (a stream per exchange, many at once on one connection) where the
 * backend's {@link io.berth.Backend#protocols() protocols} allow it and the server chose it.
 *
 * <pre>{@code
 * try (BerthClient client = BerthClient.create("https://api.example.com");
 *      BerthResponse response = client.send(BerthRequest.get("/v1/items"))) {
 *     String json = response.bodyString();
 * }
 * }</pre>
 *
 * <p>What it does for each request:
 * <ul>
 *   <li>adds {@code Host} (the server's name, or the TLS name to verify when one is set) and, with
 *       {@code decompressGzip} on and no {@code Accept-Encoding} of the caller's,
 *       {@code Accept-Encoding: gzip}, decoding gzip bodies transparently;</li>
 *   <li>retries a replayable request once, on a new connection (on another server when there is
 *       one), if its connection fails before any response byte (a reused one the server closed as
 *       the request went out, or a server that died with the request in flight), but not after a
 *       timeout; a non-replayable request is never sent twice and fails with
 *       {@link RequestNotRetriedException} instead when a reused connection failed so. Failures to
 *       connect are retried by the pool up to {@code retries} times;</li>
 *   <li>on HTTP/2, sends again on another connection, whatever its method, a request the server did
 *       not process by the protocol's guarantee (a GOAWAY below its stream, REFUSED_STREAM, a
 *       connection that failed before its HEADERS were written), up to {@code retries} times, then
 *       fails with {@link RequestNotProcessedException}; under {@code SAFE} a request that is not
 *       replayable goes on a connection whose server has been silent beyond
 *       {@code validateAfterIdle} only after a PING proved it alive (bounded by {@code pingTimeout});
 *       closing a response early resets its stream (RST_STREAM), not the connection;</li>
 *   <li>releases the connection per the response: {@code Connection: close}, HTTP/1.0 without
 *       keep-alive, an unread body or any error close it; {@code Keep-Alive: timeout=, max=} hints
 *       bound its reuse;</li>
 *   <li>makes a connection that met an NTLM or Negotiate challenge private to the request's
 *       session.</li>
 * </ul>
 *
 * <p>Thread-safe: share one client per backend.
 */
public final class BerthClient implements AutoCloseable {
    /**
     * The largest body taken whole when it arrives with its head, so that its connection (or HTTP/2
     * stream) goes back before the caller reads it: one copy of at most this many bytes.
     */
    static final int ARRIVED_BODY_MAX = 16 * 1024;

    private final PoolAccess pool;
    private final boolean secure;
    private final TlsConfig tls;
    private final boolean ownsPool;
    /** The Host header of each server: it depends on the server only when no TLS name is set. */
    private final ConcurrentHashMap<Server, String> hostHeaders = new ConcurrentHashMap<>();

    /** Exchanges on HTTP/2 connections. */
    private final Http2Client http2;

    private BerthClient(PoolAccess pool, boolean ownsPool) {
        this.pool = pool;
        Backend backend = pool.backend();
        this.secure = backend.isSecure();
        this.tls = secure ? backend.tls() : null;
        this.ownsPool = ownsPool;
        this.http2 = new Http2Client(pool, secure);
    }

    /**
     * @param baseUrl the backend, e.g. {@code https://api.example.com}
     * @return a client over a new pool with the default settings
     * @throws IllegalArgumentException if the URL is not a backend URL
     */
    public static BerthClient create(String baseUrl) {
        return create(Backend.of(baseUrl), BackendPoolConfig.defaults());
    }

    /**
     * @param backend where to connect
     * @param config the pool's settings
     * @return a client over a new pool
     */
    public static BerthClient create(Backend backend, BackendPoolConfig config) {
        return new BerthClient(PoolAccess.of(Berth.newPool(backend, config)), true);
    }

    /**
     * Returns a client over an existing pool, e.g. one client per caller over one shared pool. The
     * client is cheap and does not own the pool: closing it leaves the pool open.
     *
     * @param pool a pool built by {@link Berth}
     * @return a client over it
     * @throws IllegalArgumentException if the pool was not built by {@link Berth}
     */
    public static BerthClient over(BackendPool pool) {
        return new BerthClient(PoolAccess.of(pool), false);
    }

    /** @return the pool: stats, reconfiguration, sessions */
    public BackendPool pool() {
        return pool;
    }

    /**
     * @return a new session of the pool; pass it to {@link BerthRequest.Builder#session}
     * @throws io.berth.PoolClosedException if the pool is closed
     */
    public Session openSession() throws io.berth.PoolClosedException {
        return pool.openSession();
    }

    /**
     * Sends a request and returns the response once its head has arrived.
     *
     * @param request the request
     * @return the response; close it (or read its body to the end)
     * @throws RequestNotRetriedException if a non-replayable request failed on a reused connection
     *     before any response byte
     * @throws io.berth.AcquireTimeoutException if no connection became available in time
     * @throws ResponseTimeoutException if the server was silent longer than {@code responseTimeout}, or
     *     the request's own timeout passed
     * @throws io.berth.HttpProtocolException if the response broke HTTP/1.1
     * @throws javax.net.ssl.SSLHandshakeException if the server's certificate was not accepted
     * @throws IOException for other network failures
     */
    public BerthResponse send(BerthRequest request) throws IOException {
        return send(request, null);
    }

    /**
     * Sends a request that another thread may cancel through {@code cancellation}, before or during
     * the exchange, including while the response body is read: see {@link Cancellation}. A cancelled
     * exchange is never retried.
     *
     * @param request the request
     * @param cancellation cancels the exchange; {@code null} for none
     * @return the response; close it (or read its body to the end)
     * @throws InterruptedIOException if it was cancelled before the response head arrived (the cause,
     *     if any, is the failure the abort caused); once the head has arrived, body reads fail
     *     instead
     * @throws IllegalStateException if {@code cancellation} is in use by another exchange
     * @throws IOException as {@link #send(BerthRequest)}
     */
    public BerthResponse send(BerthRequest request, Cancellation cancellation) throws IOException {
        Objects.requireNonNull(request, "request");
        BackendPoolConfig config = pool.config();
        boolean replayable = request.isReplayable(config.idempotencyKeyReplayable());
        boolean gzip = config.decompressGzip() && !request.acceptEncodingSet();
        long responseTimeout = request.responseTimeout() != null ? request.responseTimeout().toNanos()
                : config.responseTimeout().toNanos();
        long deadline = request.timeout() == null ? 0 : System.nanoTime() + request.timeout().toNanos();
        boolean head = request.isHead();
        boolean retried = false;
        int unprocessed = 0;
        Server failedServer = null;
        for (;;) {
            if (cancellation != null && cancellation.isCanceled()) {
                throw canceled(request, null);
            }
            long acquireTimeout = bounded(config.acquireTimeout().toNanos(), deadline);
            Lease lease = retried
                    ? pool.acquireNew(replayable, request.session(), acquireTimeout, failedServer)
                    : pool.acquire(replayable, request.session(), acquireTimeout, TimeUnit.NANOSECONDS);
            if (lease.connection() instanceof Http2Connection h2) {
                try {
                    return http2.send(lease, h2, request, request.headersFor(hostHeader(lease.server()), gzip),
                            replayable, gzip, responseTimeout, deadline, !retried, cancellation);
                } catch (Http2Client.Retry r) {
                    if (r.unprocessed ? ++unprocessed > config.retries() : retried) {
                        throw r.unprocessed ? new RequestNotProcessedException(r.failure instanceof
                                RequestNotProcessedException n ? n.reason() : RequestNotProcessedException.Reason.GOAWAY,
                                request + " to " + pool.backend() + " was not processed " + unprocessed
                                + " times (retries " + config.retries() + "): " + r.failure.getMessage(), r.failure)
                                : r.failure;
                    }
                    if (!r.unprocessed) {
                        retried = true;
                        failedServer = lease.server();
                    }
                    continue;
                }
            }
            Http1State state = stateOf(lease, config);
            Http1Codec conn = state.codec;
            HeaderFields headers = request.headersFor(state.hostHeader, gzip);
            if (cancellation != null && !attach(cancellation, conn.connection(), lease)) {
                throw canceled(request, null);
            }
            ResponseHead responseHead;
            try {
                conn.writeRequest(request.method(), request.target(), headers, requestBody(request.body()),
                        bounded(responseTimeout, deadline));
                responseHead = conn.readResponseHead(bounded(responseTimeout, deadline), head);
            } catch (IllegalArgumentException e) {
                release(lease, Outcome.REUSABLE, cancellation, conn.connection()); // rejected before anything was written
                throw e;
            } catch (IOException e) {
                boolean nothingBack = !conn.responseStarted();
                boolean reused = lease.reused();
                release(lease, Outcome.BROKEN, cancellation, conn.connection());
                if (cancellation != null && cancellation.isCanceled()) {
                    throw canceled(request, e);
                }
                if (nothingBack && !(e instanceof InterruptedIOException) && !passed(deadline)) {
                    if (replayable && !retried) {
                        // The server closed a reused connection as the request went out, or died with it
                        // in flight: once more, on a new connection, on another server when there is one.
                        retried = true;
                        failedServer = lease.server();
                        continue;
                    }
                    if (!replayable && reused) {
                        throw new RequestNotRetriedException(request + " to " + pool.backend()
                                + " failed on reused connection #" + lease.id() + " before any response byte"
                                + " and is not replayable, so it was not sent again: " + e, e);
                    }
                }
                throw timeoutPassed(e, deadline, request);
            } catch (RuntimeException | Error e) {
                release(lease, Outcome.BROKEN, cancellation, conn.connection());
                throw e;
            }
            if (cancellation != null && cancellation.isCanceled()) {
                release(lease, Outcome.BROKEN, cancellation, conn.connection());
                throw canceled(request, null);
            }
            long id = lease.id();
            boolean reused = lease.reused();
            int status = responseHead.statusCode();
            if ((status == 401 || status == 407) && negotiates(responseHead.headers(), status)) {
                lease.makePrivate();
            }
            // Decided while the connection is ours: once it goes back, its state is the next holder's.
            boolean gzipped = gzip && state.gzipEncoded(responseHead);
            ExchangeListener releaser = state.releaser;
            if (cancellation != null) {
                ExchangeListener poolReleaser = releaser;
                releaser = outcome -> poolReleaser.exchangeCompleted(
                        cancellation.detach(conn.connection()) ? Outcome.BROKEN : outcome);
            }
            // A small body that came with its head: the connection goes back before the caller reads it
            // (detached from its cancellation first: a later cancel has nothing to abort).
            byte[] arrived = conn.takeArrivedBody(responseHead, head, ARRIVED_BODY_MAX, releaser);
            if (arrived != null) {
                boolean gunzip = gzipped && arrived.length > 0;
                HeaderFields fields = gunzip ? decodedHeaders(responseHead.headers()) : responseHead.headers();
                return BerthResponse.arrived(responseHead, fields, null, arrived, gunzip, id, reused);
            }
            ResponseBody raw = conn.body(responseHead, head, responseTimeout, releaser);
            BerthResponse response = response(responseHead, raw, gzipped, id, reused);
            if (!raw.isComplete()) {
                pool.watch(lease, response); // still ours: the body is not finished
            }
            return response;
        }
    }

    /**
     * The HTTP/1.1 state kept with a pooled connection, as its attachment: the codec, made on the
     * connection's first exchange, and the listener that releases its lease when a response ends
     * (made once, so that an exchange allocates neither).
     */
    private static final class Http1State implements Attachment {
        final Http1Codec codec;
        final ExchangeListener releaser;
        /** The connection's Host header: its server never changes. */
        final String hostHeader;
        /** The head {@link #gzipEncoded} was decided for: a codec hands out a repeated head again. */
        private ResponseHead encodingHead;
        private boolean gzipEncoded;

        Http1State(Http1Codec codec, ExchangeListener releaser, String hostHeader) {
            this.codec = codec;
            this.releaser = releaser;
            this.hostHeader = hostHeader;
        }

        /** @return whether the response's body is gzip-encoded ({@code Content-Encoding: gzip}) */
        boolean gzipEncoded(ResponseHead head) {
            if (head != encodingHead) {
                gzipEncoded = "gzip".equalsIgnoreCase(head.headers().first("Content-Encoding"));
                encodingHead = head;
            }
            return gzipEncoded;
        }

        @Override
        public void idle() {
            codec.idle();
        }

        @Override
        public void closed() {
            codec.closed();
        }
    }

    private Http1State stateOf(Lease lease, BackendPoolConfig config) {
        if (lease.attachment() instanceof Http1State s) {
            return s;
        }
        PoolAccess p = pool;
        Http1State s = new Http1State(Http1Codec.of(lease.connection(), config.maxResponseHeadSize(),
                Http1Codec.DEFAULT_EXPECT_CONTINUE_TIMEOUT), outcome -> p.release(lease, outcome),
                hostHeader(lease.server()));
        lease.attach(s);
        return s;
    }

    /** Attaches the exchange to its cancellation; if already cancelled, releases the unused connection. */
    private boolean attach(Cancellation cancellation, Connection conn, Lease lease) {
        boolean attached;
        try {
            attached = cancellation.attach(conn);
        } catch (RuntimeException e) {
            pool.release(lease, Outcome.REUSABLE);
            throw e;
        }
        if (!attached) {
            pool.release(lease, Outcome.REUSABLE); // nothing was written on it
        }
        return attached;
    }

    /** Detaches the exchange from its cancellation first, so that a late cancel cannot reach the next user. */
    private void release(Lease lease, Outcome outcome, Cancellation cancellation, Connection conn) {
        if (cancellation != null && cancellation.detach(conn)) {
            outcome = Outcome.BROKEN;
        }
        pool.release(lease, outcome);
    }

    private InterruptedIOException canceled(BerthRequest request, IOException cause) {
        return canceledException(request, pool.backend(), cause);
    }

    static InterruptedIOException canceledException(BerthRequest request, Backend backend, IOException cause) {
        InterruptedIOException e = new InterruptedIOException(request + " to " + backend + " was canceled");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    /** @param gzip whether to decode the body: asked for, and {@code Content-Encoding: gzip} */
    private static BerthResponse response(ResponseHead head, ResponseBody raw, boolean gzip, long id, boolean reused)
            throws IOException {
        HeaderFields headers = head.headers();
        InputStream body = raw;
        if (gzip && !raw.isComplete()) {
            try {
                body = new GZIPInputStream(raw, 8192);
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
            headers = decodedHeaders(headers);
        }
        return new BerthResponse(head, headers, raw, body, id, reused);
    }

    /** @return the header fields of a body decoded from gzip: without its encoding and length */
    static HeaderFields decodedHeaders(HeaderFields headers) {
        return headers.toBuilder().remove("Content-Encoding").remove("Content-Length").build();
    }

    private static boolean negotiates(HeaderFields headers, int status) {
        String name = status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate";
        for (String v : headers.values(name)) {
            String scheme = v.trim();
            int sp = scheme.indexOf(' ');
            scheme = sp < 0 ? scheme : scheme.substring(0, sp);
            if (scheme.equalsIgnoreCase("NTLM") || scheme.equalsIgnoreCase("Negotiate")) {
                return true;
            }
        }
        return false;
    }

    static long bounded(long timeoutNanos, long deadline) {
        if (deadline == 0) {
            return timeoutNanos;
        }
        return Math.max(1, Math.min(timeoutNanos, deadline - System.nanoTime()));
    }

    /** @return whether the request's own timeout has passed */
    private static boolean passed(long deadline) {
        return deadline != 0 && deadline - System.nanoTime() <= 0;
    }

    /**
     * A failure once the request's own timeout has passed is that timeout, whatever the I/O error the
     * deadline's abort caused.
     */
    private IOException timeoutPassed(IOException e, long deadline, BerthRequest request) {
        if (passed(deadline) && !(e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException))) {
            ResponseTimeoutException t = new ResponseTimeoutException(request + " to " + pool.backend()
                    + ": the request's timeout of " + request.timeout() + " passed");
            t.initCause(e);
            return t;
        }
        return e;
    }

    private static RequestBody requestBody(BerthRequest.Body body) {
        if (body == null) {
            return null;
        }
        if (body instanceof BerthRequest.BytesBody) {
            return RequestBody.of(((BerthRequest.BytesBody) body).bytes);
        }
        return new RequestBody() {
            @Override
            public long contentLength() {
                return body.contentLength();
            }

            @Override
            public void writeTo(BodySink sink) throws IOException {
                body.writeTo(new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        sink.write(new byte[] {(byte) b}, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        sink.write(b, off, len);
                    }
                });
            }
        };
    }

    private String hostHeader(Server server) {
        String h = hostHeaders.get(server);
        if (h == null) {
            h = HostHeader.of(secure, tls, server);
            hostHeaders.putIfAbsent(server, h);
        }
        return h;
    }

    /**
     * Closes the pool (see {@link BackendPool#close()}) if this client created it; a client made
     * {@link #over(BackendPool) over} a pool leaves it open.
     */
    @Override
    public void close() {
        if (ownsPool) {
            pool.close();
        }
    }

    @Override
    public String toString() {
        return "BerthClient{" + pool + "}";
    }
}
