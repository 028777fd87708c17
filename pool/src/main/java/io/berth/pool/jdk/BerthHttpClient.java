package io.berth.pool.jdk;

import io.berth.Backend;
import io.berth.BackendPoolConfig;
import io.berth.HttpProtocol;
import io.berth.TlsConfig;
import io.berth.internal.Origin;
import io.berth.pool.http.BerthPools;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.PushPromiseHandler;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * A drop-in {@link HttpClient} whose requests run over Berth pools: one {@link io.berth.BackendPool}
 * per origin (scheme, host, port), created on first use through {@link BerthPools}, so that every
 * caller, on any thread and through any instance sharing the pools, reuses the same warm TLS
 * connections under the pool's {@link io.berth.ReusePolicy}.
 *
 * <pre>{@code
 * try (BerthHttpClient client = BerthHttpClient.create()) {
 *     HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://api.example.com/items")).build(),
 *             HttpResponse.BodyHandlers.ofString());
 * }
 * }</pre>
 *
 * <p><b>What it does like the JDK's client.</b> Every standard {@link HttpRequest.BodyPublishers
 * BodyPublisher} and {@link HttpResponse.BodyHandlers BodyHandler}; request headers,
 * {@link HttpRequest#timeout() timeout} ({@link java.net.http.HttpTimeoutException} on expiry, with
 * Berth's exception as cause), {@link HttpRequest#expectContinue() expectContinue}; redirects per
 * {@link #followRedirects()} (default {@link Redirect#NEVER}; 301, 302 and 303 become GET without body,
 * a HEAD staying HEAD; 307 and 308 keep method and body, whose publisher is subscribed to again as the
 * JDK does; a relative {@code Location} is resolved; at most {@link #MAX_REDIRECTS} are followed, after
 * which the last redirect response is returned, as the JDK does; a hop may go to another origin and
 * so another pool, without the {@code Authorization} header); cookies
 * through a {@link CookieHandler}; {@code sendAsync} on an executor; failures as the JDK types
 * ({@link java.net.ConnectException}, {@link java.net.http.HttpConnectTimeoutException},
 * {@link javax.net.ssl.SSLHandshakeException}, {@link InterruptedException}).
 *
 * <p><b>What it adds.</b> Berth's reuse rules: a <i>replayable</i> request (an idempotent method whose
 * body can be sent again: none, {@code ofString}, {@code ofByteArray}, {@code ofFile}, or a publisher
 * wrapped with {@link #replayable}) may reuse the idle connections its pool's policy allows it (under
 * the default {@code SAFE}, all of them) and is retried once on a new connection if a reused one dies
 * before any response byte; any other request ({@code ofInputStream}, {@code ofByteArrays},
 * {@code fromPublisher}, {@code concat}, or a non-idempotent method) is never sent twice (a
 * {@link io.berth.RequestNotRetriedException} says so). Gzip: unless the request sets
 * {@code Accept-Encoding} itself, the pool's {@code decompressGzip} setting (on by default) asks for
 * gzip and decodes it transparently, removing {@code Content-Encoding} and {@code Content-Length}
 * from the response headers; a request that sets {@code Accept-Encoding} gets the bytes as sent,
 * as with the JDK.
 *
 * <p><b>What it does not do</b>, with an {@link UnsupportedOperationException} that says so rather
 * than a wrong answer: HTTP/2 (a request that asks for {@code version(HTTP_2)}; a <i>client</i> built
 * with {@code version(HTTP_2)} falls back to HTTP/1.1 as the JDK does with a server without h2),
 * WebSocket, push promises, proxies other than {@link HttpClient.Builder#NO_PROXY}, an
 * {@link Authenticator}, and TLS set through an {@link SSLContext} or {@link SSLParameters} (use
 * {@link Builder#tls(TlsConfig)}). Responses report no {@link HttpResponse#sslSession() SSLSession}: the
 * TLS session of a pooled connection is not exposed per exchange.
 *
 * <p><b>Bodies.</b> A request body is streamed from its publisher as the connection takes it (a few
 * buffers ahead, at most); a publisher that fails, or breaks its {@code contentLength()}, fails the
 * send with its own exception as the cause, and one that stays silent longer than the request's
 * timeout (or the pool's {@code responseTimeout}) fails it too: a send never hangs on its publisher.
 * A response body is read from the connection only as the handler's subscriber asks for it; the
 * connection returns to the pool when the body has been read to its end, or when the subscriber
 * cancels (closing an {@code ofInputStream} does): a short rest is then drained so the connection
 * stays reusable, a long one closes it. A body cut short is an {@link io.berth.TruncatedBodyException},
 * never a complete body. Failures while reading a body reach the subscriber, and {@code send}, as
 * Berth's own {@link IOException}s. Unlike the JDK's client, a subscriber that cancels without ever
 * completing its body makes {@code send} fail after a second rather than wait forever.
 *
 * <p><b>Other differences.</b> No {@code User-Agent} is added; HTTP/1.0 answers are reported as
 * {@link Version#HTTP_1_1}.
 *
 * <p><b>Lifecycle.</b> {@link #close()} closes the pools this client created (not pools passed to
 * {@link Builder#pools(BerthPools)}), and stops the default executor, leaving no thread behind. JDK 17's
 * {@code HttpClient} has no {@code close()}; use this one with try-with-resources. JDK 21's lifecycle
 * methods work as the JDK documents them, on 17 too: {@link #shutdown()}, {@link #shutdownNow()},
 * {@link #awaitTermination(Duration)}, {@link #isTerminated()}.
 *
 * <p><b>Threads.</b> {@code send} runs on the caller's thread. {@code sendAsync} runs the exchange on the
 * executor: by default, on JDK 21 and later, one virtual thread per exchange; on JDK 17 at most 64
 * platform threads, and 64 more that read streamed bodies ahead (see {@link Builder#executor}).
 *
 * <p>Thread-safe: share one instance, or many over one {@link BerthPools}. Arguments must not be null
 * (a {@link NullPointerException} says which), and nothing returned is null.
 *
 * @since 1.0
 */
public final class BerthHttpClient extends HttpClient implements AutoCloseable {
    /**
     * The most redirects followed for one request: 5, the JDK's default limit. (JDK 17's client stops
     * one hop earlier, after 5 responses; this client follows 5 redirects, making up to 6 requests.)
     */
    public static final int MAX_REDIRECTS = 5;

    private static final long CLOSE_WAIT_MILLIS = 5_000;
    /** The client whose default executor runs the current thread, if any. */
    private static final ThreadLocal<BerthHttpClient> OWNER = new ThreadLocal<>();

    private final BerthPools pools;
    private final boolean ownsPools;
    private final Redirect redirect;
    private final CookieHandler cookieHandler;
    private final Executor userExecutor;
    private final Version version;
    private final DefaultExecutor ownExecutor;
    private final Duration connectTimeout;
    private final TlsConfig tls;
    private final ProxySelector proxy;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Exchanges submitted and not yet done (their response, and its body if streamed, included). */
    private final Set<Exchange<?>> operations = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean shutdown = new AtomicBoolean();
    private final AtomicBoolean terminating = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);

    private BerthHttpClient(Builder b, BerthPools pools, boolean ownsPools) {
        this.pools = pools;
        this.ownsPools = ownsPools;
        this.redirect = b.redirect;
        this.cookieHandler = b.cookieHandler;
        this.userExecutor = b.executor;
        this.version = b.version;
        this.ownExecutor = b.executor == null ? DefaultExecutor.create(this) : null;
        this.connectTimeout = b.connectTimeout != null ? b.connectTimeout : pools.defaults().connectTimeout();
        this.tls = b.tls;
        this.proxy = b.proxy;
    }

    /**
     * Returns a client with the defaults: pools with {@link BackendPoolConfig#defaults()}, the JDK trust
     * store, no redirects, no cookies, the default executor. Close it when done.
     *
     * @return a new client that owns its pools
     */
    public static BerthHttpClient create() {
        return newBuilder().build();
    }

    /**
     * The same as {@link #create()}: hides {@link HttpClient#newHttpClient()}, so that code calling
     * {@code BerthHttpClient.newHttpClient()} gets a Berth client rather than the JDK's.
     *
     * @return a new client that owns its pools
     */
    public static BerthHttpClient newHttpClient() {
        return create();
    }

    /**
     * Returns a client over shared pools, with the other defaults. Closing it leaves the pools open.
     *
     * @param pools the pools, e.g. one {@link BerthPools} for the whole application
     * @return a new client
     * @throws NullPointerException if {@code pools} is null
     */
    public static BerthHttpClient create(BerthPools pools) {
        return newBuilder().pools(pools).build();
    }

    /** @return a builder, starting from the defaults listed on its methods */
    public static Builder newBuilder() {
        return new Builder();
    }

    /**
     * Marks a publisher as replayable: every subscription to it yields the same bytes, so a request
     * with an idempotent method and this body may reuse any idle connection the pool's policy allows
     * replayable requests, and is retried once on a new connection if a reused one dies before any
     * response byte. Use it for {@code ofByteArrays} over a collection, a
     * {@code concat} of replayable parts, {@code ofInputStream} whose supplier opens a new stream of
     * the same bytes each time, or a publisher of your own that can be subscribed to again. The JDK's
     * {@code noBody}, {@code ofString}, {@code ofByteArray} and {@code ofFile} are replayable without it.
     *
     * @param publisher a publisher that can be subscribed to again with the same result
     * @return a publisher that delegates to it and is known to be replayable
     * @throws NullPointerException if {@code publisher} is null
     */
    public static HttpRequest.BodyPublisher replayable(HttpRequest.BodyPublisher publisher) {
        Objects.requireNonNull(publisher, "publisher");
        return publisher instanceof PublisherBody.ReplayablePublisher ? publisher
                : new PublisherBody.ReplayablePublisher(publisher);
    }

    /** @return the pools this client sends through (for stats and reconfiguration) */
    public BerthPools pools() {
        return pools;
    }

    /** @return the cookie handler, if one was set */
    @Override
    public Optional<CookieHandler> cookieHandler() {
        return Optional.ofNullable(cookieHandler);
    }

    CookieHandler cookieHandlerOrNull() {
        return cookieHandler;
    }

    /**
     * @return the connect timeout of new pools: the one given to {@link Builder#connectTimeout}, or the
     *     {@code connectTimeout} of the pools' default settings (Berth always has one; default 10 s)
     */
    @Override
    public Optional<Duration> connectTimeout() {
        return Optional.of(connectTimeout);
    }

    /** @return the redirect policy; default {@link Redirect#NEVER} */
    @Override
    public Redirect followRedirects() {
        return redirect;
    }

    /** @return {@link HttpClient.Builder#NO_PROXY} if it was set, else empty: Berth connects directly */
    @Override
    public Optional<ProxySelector> proxy() {
        return Optional.ofNullable(proxy);
    }

    /**
     * Returns the JDK's default {@link SSLContext}, as a description of the trust Berth uses by default
     * (the JDK trust store). It is <b>not</b> the context of Berth's connections: each pool builds its
     * own from its {@link TlsConfig}, one per TLS profile, so that SNI and session caches never mix.
     *
     * @return {@link SSLContext#getDefault()}
     * @throws IllegalStateException if the JDK has no default context
     */
    @Override
    public SSLContext sslContext() {
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no default SSLContext", e);
        }
    }

    /**
     * Describes the TLS settings of new {@code https} pools: protocols and ALPN ({@code h2} and
     * {@code http/1.1} under {@code version(HTTP_2)}, unless set otherwise) of the
     * {@link Builder#tls(TlsConfig) tls} setting (or {@link TlsConfig#defaults()}, also for a client over
     * shared {@link BerthPools}), and endpoint identification {@code HTTPS} (Berth always verifies host
     * names). Changing the returned object changes nothing.
     *
     * @return a new {@link SSLParameters}
     */
    @Override
    public SSLParameters sslParameters() {
        TlsConfig t = tls != null ? tls : TlsConfig.defaults();
        SSLParameters p = new SSLParameters();
        p.setProtocols(t.protocols().toArray(new String[0]));
        p.setApplicationProtocols(!t.alpn().equals(TlsConfig.DEFAULT_ALPN) ? t.alpn().toArray(new String[0])
                : version == Version.HTTP_2 ? new String[] {"h2", "http/1.1"} : new String[] {"http/1.1"});
        p.setEndpointIdentificationAlgorithm("HTTPS");
        return p;
    }

    /** @return empty: authentication is not supported (set an {@code Authorization} header instead) */
    @Override
    public Optional<Authenticator> authenticator() {
        return Optional.empty();
    }

    /**
     * @return the version set with {@link Builder#version}: {@link Version#HTTP_2} by default, as the
     *     JDK's, under which the pools the client creates offer {@code h2} and {@code http/1.1} to
     *     {@code https} origins through ALPN (each connection speaks what its server chose; a shared
     *     {@link BerthPools} decides for itself); {@link Version#HTTP_1_1} offers {@code http/1.1} only
     */
    @Override
    public Version version() {
        return version;
    }

    /**
     * @return the executor given to {@link Builder#executor}, or empty when the client uses its own:
     *     on JDK 21 and later a new virtual thread per task; on JDK 17 at most 64 daemon platform
     *     threads for exchanges and 64 for reading streamed bodies ahead, further tasks waiting in a
     *     FIFO queue; named {@code berth-http-N} (and {@code berth-http-body-N}) and stopped by
     *     {@link #close()} or at termination
     */
    @Override
    public Optional<Executor> executor() {
        return Optional.ofNullable(userExecutor);
    }

    Executor executorForBodies() {
        return userExecutor != null ? userExecutor : ownExecutor.bodies;
    }

    /**
     * Sends a request on the calling thread and returns the response once its body is ready: read
     * whole for {@code ofString}, {@code ofByteArray}, {@code ofFile} and the like; for streaming handlers
     * ({@code ofInputStream}, {@code ofLines}, {@code ofPublisher}) as soon as the head has arrived, the
     * body then being read from the connection as the caller consumes it (the client's executor reads
     * ahead). The connection goes back to the pool when the body has been read to its end, or when a
     * streaming body is closed or cancelled (a short rest is drained so the connection stays usable; a
     * long one closes it).
     *
     * @param request the request: an absolute {@code https} or {@code http} URI
     * @param responseBodyHandler makes the body subscriber for the final response
     * @param <T> the body type
     * @return the final response (after redirects); its {@code previousResponse()} chain holds the
     *     redirect responses, with {@code null} bodies
     * @throws java.net.http.HttpTimeoutException if the request's {@link HttpRequest#timeout() timeout}
     *     passed before the response head arrived, the server stayed silent for the pool's
     *     {@code responseTimeout} before it, or the request body's publisher stayed silent (the cause is
     *     Berth's exception)
     * @throws java.net.http.HttpConnectTimeoutException if connecting (TCP or TLS handshake) timed out
     * @throws java.net.ConnectException if the server refused the connection
     * @throws javax.net.ssl.SSLHandshakeException if the server's certificate was not accepted
     * @throws io.berth.RequestNotRetriedException if a non-replayable request failed on a reused
     *     connection before any response byte (it was not sent again)
     * @throws io.berth.AcquireTimeoutException if the pool had no connection to give in time
     * @throws io.berth.TruncatedBodyException if the body ended early (never passed off as complete)
     * @throws IOException for other failures: the connection, the request body's publisher (the
     *     publisher's exception is the cause), too many redirects, the body subscriber
     * @throws InterruptedException if the thread was interrupted; the exchange was abandoned
     * @throws UnsupportedOperationException if the request asks for {@code version(HTTP_2)}
     * @throws IllegalArgumentException if the URI is not absolute {@code https} or {@code http}
     * @throws IllegalStateException if this client was closed
     */
    @Override
    public <T> HttpResponse<T> send(HttpRequest request, BodyHandler<T> responseBodyHandler)
            throws IOException, InterruptedException {
        check(request, responseBodyHandler);
        Exchange<T> exchange = begin(request, responseBodyHandler);
        try {
            return exchange.run();
        } catch (InterruptedIOException e) {
            if (e instanceof SocketTimeoutException) {
                throw e;
            }
            if (exchange.aborted()) {
                throw new IOException(request.method() + " " + request.uri() + " aborted: the client was shut down"
                        + " (shutdownNow)", e);
            }
            Thread.interrupted(); // reported by the exception, as InterruptedException is
            InterruptedException ie = new InterruptedException(request.method() + " " + request.uri()
                    + " interrupted: " + e.getMessage());
            ie.initCause(e);
            throw ie;
        } finally {
            exchange.release();
        }
    }

    /**
     * Sends a request on the client's executor. Equivalent to
     * {@link #sendAsync(HttpRequest, BodyHandler, PushPromiseHandler) sendAsync(request, handler, null)}.
     *
     * @param request the request
     * @param responseBodyHandler makes the body subscriber
     * @param <T> the body type
     * @return a future of the response; see the three-argument form
     * @throws UnsupportedOperationException if the request asks for {@code version(HTTP_2)}
     * @throws IllegalStateException if this client was closed
     */
    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, BodyHandler<T> responseBodyHandler) {
        return sendAsync(request, responseBodyHandler, null);
    }

    /**
     * Sends a request on the client's executor: the whole exchange (as {@link #send} does it) runs
     * there, and the future completes with the response, or exceptionally with the
     * {@link IOException} {@code send} would throw.
     *
     * <p>Cancelling the future ({@code cancel(true)} or {@code cancel(false)}; only on the future this
     * method returns, not on stages derived from it) abandons the exchange: before it starts, it never
     * runs; while it runs (waiting for a connection, writing, waiting for the head, or reading a body
     * that the handler reads whole), the executor thread running it is interrupted, which ends the
     * wait and closes the connection. Once the future is complete, cancelling does nothing: close a
     * streaming body to release its connection.
     *
     * @param request the request
     * @param responseBodyHandler makes the body subscriber
     * @param pushPromiseHandler must be {@code null}: push promises are HTTP/2 only
     * @param <T> the body type
     * @return a future of the response
     * @throws UnsupportedOperationException if {@code pushPromiseHandler} is not null, or the request
     *     asks for {@code version(HTTP_2)}
     * @throws IllegalStateException if this client was closed
     */
    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, BodyHandler<T> responseBodyHandler,
            PushPromiseHandler<T> pushPromiseHandler) {
        if (pushPromiseHandler != null) {
            throw new UnsupportedOperationException("push promises are an HTTP/2 feature and BerthHttpClient speaks"
                    + " HTTP/1.1 only: pass a null PushPromiseHandler, or use the JDK's HttpClient for HTTP/2 push");
        }
        check(request, responseBodyHandler);
        Exchange<T> exchange;
        try {
            exchange = begin(request, responseBodyHandler);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e); // shut down: as the JDK's client, not a throw
        }
        AsyncExchange<T> async = new AsyncExchange<>(exchange);
        try {
            (userExecutor != null ? userExecutor : ownExecutor.exchanges).execute(async);
        } catch (RejectedExecutionException e) {
            exchange.release();
            if (closed.get()) {
                throw new IllegalStateException("BerthHttpClient is closed", e);
            }
            async.future.completeExceptionally(new IOException("the executor rejected " + request.method() + " "
                    + request.uri() + ": " + e.getMessage(), e));
        }
        return async.future;
    }

    /**
     * Not supported: Berth pools HTTP/1.1 connections.
     *
     * @return never
     * @throws UnsupportedOperationException always; use {@code HttpClient.newHttpClient().newWebSocketBuilder()}
     */
    @Override
    public WebSocket.Builder newWebSocketBuilder() {
        throw new UnsupportedOperationException("WebSocket is not supported by BerthHttpClient, which pools"
                + " HTTP/1.1 exchanges: use HttpClient.newHttpClient().newWebSocketBuilder() for WebSocket");
    }

    private void check(HttpRequest request, BodyHandler<?> handler) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(handler, "responseBodyHandler");
        if (closed.get()) {
            throw new IllegalStateException("BerthHttpClient is closed");
        }
    }

    // ------------------------------------------------------------------ lifecycle (JDK 21's, on 17 too)
    //
    // JDK 21 added shutdown(), shutdownNow(), awaitTermination(Duration), isTerminated() and close() to
    // HttpClient. This class is compiled for 17, so it declares them with the same signatures: on 21+
    // they override HttpClient's (whose defaults do nothing), on 17 they are this class's own.

    /**
     * Starts an orderly shutdown, as JDK 21's {@code HttpClient.shutdown()}: requests already submitted
     * with {@code send} or {@code sendAsync} run to completion (a streamed response body until it is
     * read to its end, closed or cancelled), new ones are refused ({@code send} throws an
     * {@link IOException}, {@code sendAsync} returns a future failed with one). It does not wait: use
     * {@link #awaitTermination(Duration)}. Once the last request completes the client terminates: its
     * default executor stops and the pools it created close (pools given to
     * {@link Builder#pools(BerthPools)} and an executor given to {@link Builder#executor} stay as they
     * are). Idempotent.
     *
     * @since 1.0 (an override of {@code HttpClient.shutdown()} on JDK 21 and later)
     */
    public void shutdown() {
        if (shutdown.compareAndSet(false, true) && operations.isEmpty()) {
            terminate();
        }
    }

    /**
     * Shuts down at once, as JDK 21's {@code HttpClient.shutdownNow()}: as {@link #shutdown()}, and every
     * request still running is aborted (its connection closed, so a thread blocked on it wakes); its
     * {@code send} throws an {@link IOException} and its {@code sendAsync} future completes exceptionally
     * with one; a streamed body being read fails. The pools this client created close first, so a
     * request still waiting for a connection is never sent; over shared {@link Builder#pools pools},
     * such a request may take a connection another one's abort frees, and is then aborted as soon as it
     * has it (before writing, if its cancellation came first). Idempotent.
     *
     * @since 1.0 (an override of {@code HttpClient.shutdownNow()} on JDK 21 and later)
     */
    public void shutdownNow() {
        shutdown();
        if (ownsPools) {
            // First, so that a request waiting for a connection fails now rather than taking one that
            // an aborted request frees, and being sent.
            pools.close();
        }
        for (Exchange<?> e : operations) {
            e.abort();
            e.discard(); // a body being read ends now, on this thread if no one is reading it
        }
        if (ownExecutor != null) {
            // Interrupts exchanges waiting on its threads; one not started yet fails here.
            for (Runnable dropped : ownExecutor.shutdownNow()) {
                if (dropped instanceof AsyncExchange) {
                    ((AsyncExchange<?>) dropped).abandon();
                }
            }
        }
    }

    /**
     * Waits until the client has terminated after a {@link #shutdown()}, as JDK 21's
     * {@code HttpClient.awaitTermination(Duration)}: until every request submitted before it completed
     * and the default executor's threads ended, or the duration passed, whichever comes first. Without
     * a shutdown the client never terminates, so this waits the whole duration and returns
     * {@code false}. A duration of zero or less only tests.
     *
     * @param duration how long to wait at most
     * @return {@code true} if the client terminated, {@code false} if the duration passed first
     * @throws InterruptedException if the thread was interrupted while waiting
     * @throws NullPointerException if {@code duration} is null
     * @since 1.0 (an override of {@code HttpClient.awaitTermination(Duration)} on JDK 21 and later)
     */
    public boolean awaitTermination(Duration duration) throws InterruptedException {
        Objects.requireNonNull(duration, "duration");
        long deadline = System.nanoTime() + (duration.isNegative() ? 0 : saturatedNanos(duration));
        if (!terminated.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            return false;
        }
        return ownExecutor == null
                || ownExecutor.awaitTermination(Math.max(0, deadline - System.nanoTime()));
    }

    /**
     * As JDK 21's {@code HttpClient.isTerminated()}: whether every request completed after a
     * {@link #shutdown()} or {@link #shutdownNow()} and the default executor's threads ended; never
     * {@code true} before one of them was called.
     *
     * @return whether the client has terminated
     * @since 1.0 (an override of {@code HttpClient.isTerminated()} on JDK 21 and later)
     */
    public boolean isTerminated() {
        return terminated.getCount() == 0 && (ownExecutor == null || ownExecutor.isTerminated());
    }

    /**
     * Closes the client now: {@link #shutdownNow()} (asynchronous exchanges still running are interrupted
     * and their futures complete exceptionally, synchronous ones fail with an {@link IOException}), closes
     * the pools this client created (connections in use close when released), then waits up to 5 s for
     * the executor's threads to end (unless called from one of them). Pools given to
     * {@link Builder#pools(BerthPools)} and an executor given to {@link Builder#executor} stay as they
     * are. Later calls to {@code send} and {@code sendAsync} throw {@link IllegalStateException}.
     * Idempotent.
     *
     * <p>Unlike JDK 21's {@code HttpClient.close()}, which waits for requests in flight to complete, this
     * aborts them: for an orderly end call {@link #shutdown()}, then {@link #awaitTermination(Duration)},
     * then {@code close()}.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            shutdownNow();
        } finally {
            if (ownsPools) {
                pools.close();
            }
        }
        if (ownExecutor != null && OWNER.get() != this) {
            try {
                ownExecutor.awaitTermination(TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Registers an exchange as an operation of the client, or refuses it once shut down. */
    private <T> Exchange<T> begin(HttpRequest request, BodyHandler<T> handler) throws IOException {
        Exchange<T> exchange = new Exchange<>(this, request, handler);
        operations.add(exchange);
        if (shutdown.get()) {
            exchange.release();
            throw new IOException("BerthHttpClient is shut down: " + request.method() + " " + request.uri()
                    + " was not sent");
        }
        return exchange;
    }

    /** Called by an exchange when it is done: its response (and body) delivered, or failed. */
    void ended(Exchange<?> exchange) {
        operations.remove(exchange);
        if (shutdown.get() && operations.isEmpty()) {
            terminate();
        }
    }

    private void terminate() {
        if (!terminating.compareAndSet(false, true)) {
            return;
        }
        try {
            if (ownExecutor != null) {
                ownExecutor.shutdown(); // its threads are idle now: they end
            }
            if (ownsPools) {
                pools.close();
            }
        } finally {
            terminated.countDown();
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    /** @return whether {@link #close()} was called */
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public String toString() {
        return "BerthHttpClient{" + (ownsPools ? "own pools" : "shared pools") + ", redirects " + redirect
                + (closed.get() ? ", closed" : "") + "}";
    }

    // ------------------------------------------------------------------ internals

    /** Sets the current thread's owner: a thread of {@code owner}'s default executor. */
    static Runnable owned(BerthHttpClient owner, Runnable r) {
        return () -> {
            OWNER.set(owner);
            r.run();
        };
    }

    /** @return {@code scheme://host:port}, lower case, default ports filled in */
    static String origin(URI uri) {
        try {
            return Origin.of(uri).toString();
        } catch (IllegalArgumentException notHttp) {
            return String.valueOf(uri); // compared and named only: another origin than any pool's
        }
    }

    /**
     * Runs an exchange for {@code sendAsync}; its future interrupts the running thread on cancel.
     * The interrupt is confined to the exchange: it is sent only while the exchange runs, under the
     * same lock that ends the running phase, and the flag it set is cleared before the thread goes
     * back to its executor.
     */
    private static final class AsyncExchange<T> implements Runnable {
        final Exchange<T> exchange;
        final CompletableFuture<HttpResponse<T>> future = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                boolean cancelled = super.cancel(mayInterruptIfRunning);
                if (cancelled) {
                    interruptRunner();
                }
                return cancelled;
            }
        };
        private Thread runner;
        private boolean started;
        private boolean interrupted;

        AsyncExchange(Exchange<T> exchange) {
            this.exchange = exchange;
        }

        @Override
        public void run() {
            try {
                runExchange();
            } finally {
                exchange.release();
            }
        }

        private void runExchange() {
            synchronized (this) {
                if (future.isDone()) {
                    return; // cancelled before it started
                }
                started = true;
                runner = Thread.currentThread();
            }
            try {
                HttpResponse<T> response = exchange.run();
                if (!future.complete(response)) {
                    exchange.discard(); // cancelled (or completed by the caller) meanwhile: no one reads it
                }
            } catch (InterruptedException e) {
                IOException io = new InterruptedIOException(exchange + " interrupted");
                io.initCause(e);
                future.completeExceptionally(io);
            } catch (Throwable t) {
                future.completeExceptionally(t);
            } finally {
                boolean clear;
                synchronized (this) {
                    runner = null;
                    clear = interrupted;
                }
                if (clear) {
                    Thread.interrupted(); // ours, not the executor's: do not leak it to its next task
                }
            }
        }

        /** Fails an exchange that will never run: its executor dropped it. */
        void abandon() {
            try {
                future.completeExceptionally(new IOException(exchange + " aborted before it started: the client"
                        + " was shut down (shutdownNow)"));
            } finally {
                exchange.release();
            }
        }

        private synchronized void interruptRunner() {
            if (started && runner != null) {
                interrupted = true;
                runner.interrupt();
            }
        }
    }

    /**
     * Builds a {@link BerthHttpClient}; mirrors {@link HttpClient.Builder}, plus the Berth settings.
     * Either give shared {@link #pools(BerthPools) pools}, or let the client create its own from
     * {@link #defaults}, {@link #tls}, {@link #backend} and {@link #connectTimeout}, not both.
     *
     * <p>Arguments must not be null ({@link NullPointerException}). Not thread-safe.
     *
     * @since 1.0
     */
    public static final class Builder implements HttpClient.Builder {
        private BerthPools pools;
        private Version version = Version.HTTP_2;
        private BackendPoolConfig defaults;
        private TlsConfig tls;
        private final List<Object[]> backends = new ArrayList<>();
        private Duration connectTimeout;
        private Redirect redirect = Redirect.NEVER;
        private Executor executor;
        private CookieHandler cookieHandler;
        private ProxySelector proxy;

        private Builder() {
        }

        /**
         * Sends through shared pools, which the client will not close. Default: the client creates
         * (and closes) its own.
         *
         * @param pools the pools
         * @return this builder
         * @throws NullPointerException if {@code pools} is null
         */
        public Builder pools(BerthPools pools) {
            this.pools = Objects.requireNonNull(pools, "pools");
            return this;
        }

        /**
         * @param config the settings of every pool without its own; default {@link BackendPoolConfig#defaults()}
         * @return this builder
         * @throws NullPointerException if {@code config} is null
         */
        public Builder defaults(BackendPoolConfig config) {
            this.defaults = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * @param tls the TLS settings of every {@code https} origin without a backend of its own; default
         *     {@link TlsConfig#defaults()} (JDK trust store, SNI, host name verification)
         * @return this builder
         * @throws NullPointerException if {@code tls} is null
         */
        public Builder tls(TlsConfig tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /**
         * Gives an origin its own pool settings.
         *
         * @param origin e.g. {@code https://api.example.com}
         * @param config its settings
         * @return this builder
         * @throws IllegalArgumentException if the origin is not an absolute http(s) URL
         * @throws NullPointerException if an argument is null
         */
        public Builder backend(String origin, BackendPoolConfig config) {
            Objects.requireNonNull(origin, "origin");
            Objects.requireNonNull(config, "config");
            BerthPools.builder().backend(origin, config); // validates the origin now
            backends.add(new Object[] {origin, config});
            return this;
        }

        /**
         * Gives an origin its own backend (e.g. its own TLS settings) and pool settings.
         *
         * @param backend a single-server backend; its URL is the origin
         * @param config its settings
         * @return this builder
         * @throws NullPointerException if an argument is null
         */
        public Builder backend(Backend backend, BackendPoolConfig config) {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(config, "config");
            backends.add(new Object[] {backend, config});
            return this;
        }

        /**
         * Sets the {@code connectTimeout} of every pool the client creates: the defaults and every
         * {@link #backend} setting. Default: the settings' own (10 s unless changed).
         *
         * @param duration the limit on opening a TCP connection
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        @Override
        public Builder connectTimeout(Duration duration) {
            Objects.requireNonNull(duration, "duration");
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be positive but was " + duration);
            }
            this.connectTimeout = duration;
            return this;
        }

        /**
         * @param cookieHandler sends its cookies with each request and is given each response's
         *     headers, redirects included; default none
         * @return this builder
         */
        @Override
        public Builder cookieHandler(CookieHandler cookieHandler) {
            this.cookieHandler = Objects.requireNonNull(cookieHandler, "cookieHandler");
            return this;
        }

        /**
         * Accepted only as the JDK's default context, which describes Berth's default trust (the JDK
         * trust store).
         *
         * @param sslContext {@link SSLContext#getDefault()}
         * @return this builder
         * @throws UnsupportedOperationException for any other context: Berth builds its own per TLS
         *     profile; give the trust as {@link #tls(TlsConfig)} ({@code trustPemFile},
         *     {@code trustCertificates}, {@code clientKeyManager})
         */
        @Override
        public Builder sslContext(SSLContext sslContext) {
            Objects.requireNonNull(sslContext, "sslContext");
            try {
                if (sslContext == SSLContext.getDefault()) {
                    return this;
                }
            } catch (NoSuchAlgorithmException e) {
                // fall through: not the default
            }
            throw new UnsupportedOperationException("BerthHttpClient does not take an SSLContext: each Berth pool"
                    + " builds its own from a TlsConfig, so that SNI and session caches never mix; pass"
                    + " tls(TlsConfig.builder().trustPemFile(..) or .trustCertificates(..) or .clientKeyManager(..)"
                    + ".build()) instead");
        }

        /**
         * Not supported.
         *
         * @param sslParameters ignored
         * @return never
         * @throws UnsupportedOperationException always: set protocols, ALPN and SNI through
         *     {@link #tls(TlsConfig)}
         */
        @Override
        public Builder sslParameters(SSLParameters sslParameters) {
            throw new UnsupportedOperationException("BerthHttpClient does not take SSLParameters: set protocols,"
                    + " ALPN and SNI with tls(TlsConfig.builder().protocols(..).alpn(..).sni(..).build()) instead");
        }

        /**
         * @param executor runs {@code sendAsync} exchanges and reads streaming bodies ahead
         *     ({@code ofInputStream}, {@code ofLines}, {@code ofPublisher}), so a thread reading such a body
         *     must not be the executor's only one; default: the client's own, whose threads are named
         *     {@code berth-http-N}: on JDK 21 and later a new virtual thread per task, on JDK 17 at most
         *     64 daemon platform threads made on demand for exchanges and 64 ({@code berth-http-body-N})
         *     for reading streamed bodies ahead (further tasks wait in a FIFO queue for a free one),
         *     stopped by {@link BerthHttpClient#close()} (an executor given here is left running)
         * @return this builder
         */
        @Override
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * @param policy which redirects to follow; default {@link Redirect#NEVER}
         * @return this builder
         */
        @Override
        public Builder followRedirects(Redirect policy) {
            this.redirect = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Sets the preferred version. With {@link Version#HTTP_2} (the default, as the JDK's) the pools
         * the client creates offer {@code h2} then {@code http/1.1} to {@code https} origins, and each
         * connection speaks what its server chose, HTTP/1.1 with a server without h2, as the JDK's
         * client does (but decided per connection, never remembered); {@code http} origins speak
         * HTTP/1.1 (no {@code Upgrade: h2c}). With {@link Version#HTTP_1_1} only {@code http/1.1} is
         * offered. A request's own {@code version(..)} cannot change what its pool's connections
         * speak: the response's {@code version()} says which carried it.
         *
         * @param version the preferred version
         * @return this builder
         */
        @Override
        public Builder version(Version version) {
            this.version = Objects.requireNonNull(version, "version");
            return this;
        }

        /**
         * Accepted and ignored: priority is an HTTP/2 notion.
         *
         * @param priority 1 to 256
         * @return this builder
         * @throws IllegalArgumentException if out of range, as the JDK's
         */
        @Override
        public Builder priority(int priority) {
            if (priority < 1 || priority > 256) {
                throw new IllegalArgumentException("priority must be 1 to 256 but was " + priority);
            }
            return this;
        }

        /**
         * @param proxySelector {@link HttpClient.Builder#NO_PROXY}
         * @return this builder
         * @throws UnsupportedOperationException for any other selector: Berth connects to backends
         *     directly
         */
        @Override
        public Builder proxy(ProxySelector proxySelector) {
            Objects.requireNonNull(proxySelector, "proxySelector");
            if (proxySelector != HttpClient.Builder.NO_PROXY) {
                throw new UnsupportedOperationException("BerthHttpClient connects to backends directly and does"
                        + " not support proxies (" + proxySelector + "): use HttpClient.Builder.NO_PROXY, or the"
                        + " JDK's HttpClient for proxied calls");
            }
            this.proxy = proxySelector;
            return this;
        }

        /**
         * Not supported.
         *
         * @param authenticator ignored
         * @return never
         * @throws UnsupportedOperationException always: set an {@code Authorization} header on the
         *     requests instead
         */
        @Override
        public Builder authenticator(Authenticator authenticator) {
            throw new UnsupportedOperationException("BerthHttpClient does not support an Authenticator: set the"
                    + " Authorization header on each request instead (e.g. \"Basic \" + base64(user:password))");
        }

        /**
         * @return the client
         * @throws IllegalStateException if shared {@link #pools} were combined with {@link #defaults},
         *     {@link #tls}, {@link #backend} or {@link #connectTimeout}, which only shape pools the
         *     client creates
         */
        @Override
        public BerthHttpClient build() {
            if (pools != null) {
                if (defaults != null || tls != null || !backends.isEmpty() || connectTimeout != null) {
                    throw new IllegalStateException("pools(..) cannot be combined with defaults(..), tls(..),"
                            + " backend(..) or connectTimeout(..): those shape the pools the client creates; configure"
                            + " the shared BerthPools instead");
                }
                return new BerthHttpClient(this, pools, false);
            }
            BerthPools.Builder b = BerthPools.builder();
            if (version == Version.HTTP_2) {
                b.protocols(HttpProtocol.HTTP_2, HttpProtocol.HTTP_1_1);
            }
            b.defaults(withConnectTimeout(defaults != null ? defaults : BackendPoolConfig.defaults()));
            if (tls != null) {
                b.tls(tls);
            }
            for (Object[] entry : backends) {
                BackendPoolConfig c = withConnectTimeout((BackendPoolConfig) entry[1]);
                if (entry[0] instanceof Backend) {
                    b.backend((Backend) entry[0], c);
                } else {
                    b.backend((String) entry[0], c);
                }
            }
            return new BerthHttpClient(this, b.build(), true);
        }

        private BackendPoolConfig withConnectTimeout(BackendPoolConfig c) {
            return connectTimeout == null ? c : c.toBuilder().connectTimeout(connectTimeout).build();
        }
    }
}
