package io.berth.pool.okhttp;

import io.berth.internal.Origin;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthPools;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Authenticator;
import okhttp3.Call;
import okhttp3.Cookie;
import okhttp3.CookieJar;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * An OkHttp application {@link Interceptor} that executes each request over Berth instead of
 * OkHttp's own connections: it never calls {@code chain.proceed}, so the application keeps its
 * {@code OkHttpClient}, its other interceptors and its {@code Request}/{@code Response} types, and
 * the connections come from a {@link BerthPools} (one pool per origin, Berth's reuse policies, purge
 * and stats).
 *
 * <pre>{@code
 * BerthPools pools = BerthPools.withDefaults();
 * OkHttpClient client = new OkHttpClient.Builder()
 *         .addInterceptor(new HttpLoggingInterceptor())
 *         .addInterceptor(BerthInterceptor.create(pools)) // last
 *         .build();
 * }</pre>
 *
 * <p><b>OkHttp 5.</b> {@link #create} needs OkHttp 5, whose chain tells the client's settings; with
 * OkHttp 4.12 use {@link BerthCallFactory}, which runs this interceptor with its client's settings (on
 * OkHttp 4 a response has no trailers: OkHttp 4 takes none for a response built by an interceptor).
 *
 * <p><b>It must be the last application interceptor</b>: interceptors added after it never run, and
 * OkHttp's own chain (retries and follow-ups, bridge, cache, connect, network interceptors) never
 * runs at all. {@link BerthCallFactory} places it for you.
 *
 * <p>What it does in place of OkHttp's chain:
 * <ul>
 *   <li><b>Request</b>: method, URL (its origin picks the pool, path and query are the target),
 *       headers, and the body streamed through okio ({@code contentLength()} -1 sends it chunked).
 *       Like OkHttp's bridge it sets {@code Content-Type} from the body, {@code User-Agent:
 *       okhttp/<version>} if absent, and the {@code Cookie} header from the client's
 *       {@code CookieJar}; {@code Host}, and {@code Accept-Encoding: gzip} with transparent
 *       decoding, come from Berth (per the pool's {@code decompressGzip}; not for {@code Range}
 *       requests, which get {@code Accept-Encoding: identity}). A request is replayable (retried
 *       once on a fresh connection if a reused one died before any response byte, and allowed on
 *       idle connections per the pool's {@code ReusePolicy}) when its method is idempotent and its
 *       body is not {@code isOneShot()}; {@link BerthRequest} decides the rest. Duplex bodies are
 *       refused with a {@link ProtocolException}.</li>
 *   <li><b>Response</b>: code, message, protocol ({@code HTTP_1_1}, or {@code HTTP_1_0}), headers,
 *       trailers, {@code sentRequestAtMillis}/{@code receivedResponseAtMillis}, and a body streamed
 *       from the connection. The connection goes back to the pool when the body is read to its end
 *       or closed: close every response, as with OkHttp. A gzip body that Berth decoded has no
 *       {@code Content-Encoding} and no {@code Content-Length}. Cookies go to the
 *       {@code CookieJar}. {@code handshake()}, {@code networkResponse()} and
 *       {@code cacheResponse()} are {@code null}.</li>
 *   <li><b>Follow-ups</b>: redirects (300, 301, 302, 303, 307, 308) as the client's
 *       {@code followRedirects} and {@code followSslRedirects} say, with OkHttp's rules (POST becomes
 *       GET except for 307 and 308; {@code Authorization} is dropped for another origin; a one-shot
 *       body is not sent again; at most 20), and 401 through the client's {@code Authenticator}
 *       (with a {@code null} route). Not done: 407 (no proxies), and OkHttp's retries of 408, 421
 *       and 503.</li>
 *   <li><b>Timeouts</b>: the client's read timeout ({@code chain.readTimeoutMillis()}, 0 for none) is
 *       the Berth request's {@code responseTimeout}: the longest silence on any read, and on any
 *       socket write. The write timeout bounds each write of the request body: a stalled write
 *       aborts the exchange with a {@link SocketTimeoutException}. The call timeout
 *       ({@code call.timeout()}) bounds the whole call, reading the response body included, as in
 *       OkHttp: OkHttp's own timer stops when this interceptor returns the head, so a second one of
 *       the same duration, started when this interceptor starts (so it ignores the time spent in the
 *       interceptors before it), carries it to the end of the body; when it fires, the call is
 *       cancelled and fails with {@code InterruptedIOException("timeout")}. The connect timeout is
 *       the pool's ({@code BackendPoolConfig.connectTimeout}, TCP only; the TLS handshake has
 *       {@code TlsConfig.handshakeTimeout}), and per-call changes to it are ignored: build the pools
 *       with {@link BerthCallFactory#poolDefaults(okhttp3.OkHttpClient)} to carry the client's
 *       over.</li>
 *   <li><b>Cancellation</b>: {@code Call.cancel()}, before or during the exchange, aborts the Berth
 *       exchange at once (it listens for the call's {@code canceled} event), so a thread blocked on
 *       the connection wakes, the connection is discarded as broken, never returned half-read, and
 *       the caller gets {@code IOException("Canceled")} (or OkHttp's
 *       {@code InterruptedIOException("timeout")} when the call timeout fired). A cancel while the
 *       exchange waits for a connection at {@code maxConnections}, or while one is being opened,
 *       takes effect when it has one.</li>
 *   <li><b>Errors</b>: Berth's typed {@code IOException}s propagate:
 *       {@link io.berth.RequestNotRetriedException}, {@link io.berth.TruncatedBodyException},
 *       {@link io.berth.ResponseTimeoutException} (a {@link SocketTimeoutException}),
 *       {@link javax.net.ssl.SSLHandshakeException}, {@link io.berth.AcquireTimeoutException}.</li>
 * </ul>
 *
 * <p>Not supported, because Berth's pools own connections and TLS: the client's
 * {@code CertificatePinner} and an explicit non-direct {@code Proxy} (both refused with an
 * {@link IllegalStateException}, rather than silently not applied), its {@code Cache} (skipped:
 * logged once), and its {@code Dns}, {@code ProxySelector}, socket factories, TLS settings,
 * {@code HostnameVerifier}, {@code ConnectionPool}, protocols and {@code retryOnConnectionFailure}
 * (ignored: configure trust, SNI, host name checks and retries on the {@link BerthPools}). Only
 * {@code callStart}/{@code callEnd}/{@code callFailed}/{@code canceled} events reach
 * {@code EventListener}s.
 *
 * <p>Thread-safe: one instance may serve any number of clients and calls.
 */
public final class BerthInterceptor implements Interceptor {
    private static final System.Logger LOG = System.getLogger(BerthInterceptor.class.getName());
    /** What OkHttp's {@code readTimeout(0)} (no timeout) becomes: a year. */
    static final Duration NO_TIMEOUT = Duration.ofDays(365);
    /** The most redirects and authentication follow-ups of one call, as in OkHttp. */
    static final int MAX_FOLLOW_UPS = 20;
    private static final String USER_AGENT = "okhttp/" + OkHttpVersion.FOUND;
    private static final AtomicBoolean CACHE_WARNED = new AtomicBoolean();

    private final BerthPools pools;
    /**
     * The client whose cookie jar, authenticator, redirect, cache, pinning and proxy settings apply
     * ({@link BerthCallFactory}'s); {@code null}: the chain's (OkHttp 5 has them on the chain).
     */
    private final OkHttpClient client;

    /**
     * @param pools the pools
     * @param client the client whose settings apply, or {@code null} to read them from each chain
     *     (OkHttp 5 only)
     */
    BerthInterceptor(BerthPools pools, OkHttpClient client) {
        this.pools = Objects.requireNonNull(pools, "pools");
        this.client = client;
    }

    /**
     * Needs OkHttp 5, whose interceptor chain tells the client's cookie jar, authenticator and
     * redirect settings and whose calls take a listener for {@code cancel()}. With OkHttp 4.12 use
     * {@link BerthCallFactory}, which runs this interceptor for you with the client's settings.
     *
     * @param pools the pools to run requests over; they stay the caller's to close
     * @return an interceptor to add last to an {@code OkHttpClient.Builder}
     * @throws NullPointerException if {@code pools} is null
     * @throws UnsupportedOperationException if the OkHttp on the class path is older than 5.0.0; the
     *     message names the version found and what to use instead
     */
    public static BerthInterceptor create(BerthPools pools) {
        Objects.requireNonNull(pools, "pools");
        OkHttpVersion.checkSupported();
        if (!OkHttpVersion.IS_5) {
            throw new UnsupportedOperationException("BerthInterceptor.create(pools) needs OkHttp "
                    + OkHttpVersion.INTERCEPTOR_NEEDS + " or later (its interceptor chain tells the client's cookie"
                    + " jar, authenticator and redirect settings), but found OkHttp " + OkHttpVersion.FOUND
                    + ": with OkHttp 4 use BerthCallFactory.create(client, pools) as the Call.Factory (e.g."
                    + " Retrofit's callFactory), which works with " + OkHttpVersion.OLDEST + " and later");
        }
        return new BerthInterceptor(pools, null);
    }

    /** @return the pools requests run over */
    public BerthPools pools() {
        return pools;
    }

    /**
     * Executes {@code chain.request()} over Berth, following redirects and authentication challenges
     * as the client is configured to, and returns the final response.
     *
     * @throws IOException {@code IOException("Canceled")} if the call was cancelled; Berth's typed
     *     failures otherwise (see the class comment); a {@link ProtocolException} for a duplex body, a
     *     body that wrote more or fewer bytes than its length, or more than 20 follow-ups
     * @throws IllegalStateException if the client pins certificates or names a proxy, or the pools
     *     are closed
     */
    @Override
    public Response intercept(Chain chain) throws IOException {
        Call call = chain.call();
        CallState state = CallState.of(chain);
        state.start();
        try {
            checkSupported(chain);
            Response response = followingUp(chain, call, state);
            state.finalBody((ResponseBodyBridge) response.body());
            return response;
        } catch (IOException | RuntimeException | Error e) {
            state.end();
            throw e;
        }
    }

    /** @return the final response, after redirects and authentication challenges */
    private Response followingUp(Chain chain, Call call, CallState state) throws IOException {
        Request request = chain.request();
        Response prior = null;
        for (int followUps = 0; ; ) {
            Response response = exchange(chain, call, state, request);
            if (prior != null) {
                response = response.newBuilder().priorResponse(prior).build();
            }
            Request next;
            try {
                next = followUp(chain, response);
            } catch (IOException | RuntimeException | Error e) {
                response.close();
                throw e;
            }
            if (next == null) {
                return response;
            }
            RequestBody nextBody = next.body();
            if (nextBody != null && nextBody.isOneShot()) {
                return response; // OkHttp does not send a one-shot body twice either
            }
            response.body().close();
            if (++followUps > MAX_FOLLOW_UPS) {
                throw new ProtocolException("Too many follow-up requests: " + followUps);
            }
            prior = response.newBuilder().body(ResponseBody.create(new byte[0], null)).build();
            request = next;
        }
    }

    private Response exchange(Chain chain, Call call, CallState state, Request request) throws IOException {
        if (state.isCanceled(call)) {
            throw state.canceledFailure();
        }
        HttpUrl url = request.url();
        RequestBody body = request.body();
        if (body != null && body.isDuplex()) {
            throw new ProtocolException("duplex request bodies need HTTP/2, which Berth does not speak: "
                    + request.method() + " " + url.redact());
        }
        BerthClient client = pools.client(origin(url));
        BerthRequest.Builder b = BerthRequest.newBuilder(request.method(), target(url));
        MediaType contentType = body == null ? null : body.contentType();
        String cookies = cookieHeader(chain, url);
        Headers headers = request.headers();
        for (int i = 0, n = headers.size(); i < n; i++) {
            String name = headers.name(i);
            boolean replaced = name.equalsIgnoreCase("Content-Length") || name.equalsIgnoreCase("Transfer-Encoding")
                    || (contentType != null && name.equalsIgnoreCase("Content-Type"))
                    || (cookies != null && name.equalsIgnoreCase("Cookie"));
            if (!replaced) {
                b.header(name, headers.value(i));
            }
        }
        if (contentType != null) {
            b.header("Content-Type", contentType.toString());
        }
        if (cookies != null) {
            b.header("Cookie", cookies);
        }
        if (request.header("User-Agent") == null) {
            b.header("User-Agent", USER_AGENT);
        }
        if (request.header("Range") != null && request.header("Accept-Encoding") == null) {
            b.header("Accept-Encoding", "identity"); // a range of a gzip stream cannot be decoded
        }
        RequestBodyBridge bodyBridge = null;
        if (body != null) {
            bodyBridge = new RequestBodyBridge(body, body.contentLength(), chain.writeTimeoutMillis(),
                    state.cancellation);
            b.body(bodyBridge);
        }
        int read = chain.readTimeoutMillis();
        b.responseTimeout(read > 0 ? Duration.ofMillis(read) : NO_TIMEOUT);

        long sentAt = System.currentTimeMillis();
        BerthResponse response;
        try {
            response = client.send(b.build(), state.cancellation);
        } catch (IOException e) {
            if (bodyBridge != null && bodyBridge.writeTimedOut()) {
                SocketTimeoutException t = new SocketTimeoutException("timeout: writing the request body of "
                        + request.method() + " " + url.redact() + " made no progress for "
                        + bodyBridge.writeTimeoutMillis() + " ms (writeTimeout)");
                t.initCause(e);
                throw t;
            }
            throw state.failure(e, call);
        }
        long receivedAt = System.currentTimeMillis();
        try {
            return response(chain, call, state, request, response, sentAt, receivedAt);
        } catch (RuntimeException | Error e) {
            response.close();
            throw e;
        }
    }

    private static Protocol protocol(String version) {
        switch (version) {
            case "HTTP/2":
                return Protocol.HTTP_2;
            case "HTTP/1.0":
                return Protocol.HTTP_1_0;
            default:
                return Protocol.HTTP_1_1;
        }
    }

    private Response response(Chain chain, Call call, CallState state, Request request, BerthResponse r,
            long sentAt, long receivedAt) {
        Headers headers = ResponseBodyBridge.headers(r.headers());
        receiveCookies(chain, request.url(), headers);
        String type = headers.get("Content-Type");
        ResponseBodyBridge body = new ResponseBodyBridge(r, type == null ? null : MediaType.parse(type),
                reportedLength(request, r.status(), headers), state, call);
        Response.Builder b = new Response.Builder()
                .request(request)
                .protocol(protocol(r.version()))
                .code(r.status())
                .message(r.reason())
                .headers(headers)
                .body(body)
                .sentRequestAtMillis(sentAt)
                .receivedResponseAtMillis(receivedAt);
        if (OkHttpVersion.IS_5) {
            OkHttp5.trailers(b, body); // OkHttp 4 takes no trailers for a response built by hand
        }
        return b.build();
    }

    /** @return the body length OkHttp would report: 0 without a body, -1 if chunked or unknown */
    private static long reportedLength(Request request, int status, Headers headers) {
        if (request.method().equals("HEAD") || status < 200 || status == 204 || status == 304) {
            return 0;
        }
        String te = headers.get("Transfer-Encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            return -1;
        }
        String cl = headers.get("Content-Length");
        if (cl == null) {
            return -1;
        }
        try {
            return Long.parseLong(cl.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** @return the next request of a redirect or an authentication challenge, or {@code null} */
    private Request followUp(Chain chain, Response response) throws IOException {
        switch (response.code()) {
            case 401:
                Authenticator authenticator = client != null ? client.authenticator() : OkHttp5.authenticator(chain);
                return authenticator == Authenticator.NONE ? null : authenticator.authenticate(null, response);
            case 300:
            case 301:
            case 302:
            case 303:
            case 307:
            case 308:
                return redirect(chain, response);
            default:
                return null;
        }
    }

    private Request redirect(Chain chain, Response response) {
        if (!(client != null ? client.followRedirects() : OkHttp5.followRedirects(chain))) {
            return null;
        }
        String location = response.header("Location");
        if (location == null) {
            return null;
        }
        Request request = response.request();
        HttpUrl url = request.url().resolve(location);
        if (url == null) {
            return null; // not http or https
        }
        if (!url.scheme().equals(request.url().scheme())
                && !(client != null ? client.followSslRedirects() : OkHttp5.followSslRedirects(chain))) {
            return null;
        }
        Request.Builder next = request.newBuilder().url(url);
        String method = request.method();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            int code = response.code();
            boolean keepMethod = code == 307 || code == 308 || method.equals("PROPFIND");
            if (keepMethod) {
                next.method(method, request.body());
            } else {
                next.method("GET", null);
                next.removeHeader("Transfer-Encoding").removeHeader("Content-Length").removeHeader("Content-Type");
            }
        }
        if (!sameOrigin(request.url(), url)) {
            next.removeHeader("Authorization");
        }
        return next.build();
    }

    private static boolean sameOrigin(HttpUrl a, HttpUrl b) {
        return a.scheme().equals(b.scheme()) && a.host().equals(b.host()) && a.port() == b.port();
    }

    /** @return the {@code Cookie} header from the client's cookie jar, or {@code null} if it has none for the URL */
    private String cookieHeader(Chain chain, HttpUrl url) {
        CookieJar jar = cookieJar(chain);
        if (jar == CookieJar.NO_COOKIES) {
            return null;
        }
        List<Cookie> cookies = jar.loadForRequest(url);
        if (cookies.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (Cookie c : cookies) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(c.name()).append('=').append(c.value());
        }
        return sb.toString();
    }

    private CookieJar cookieJar(Chain chain) {
        return client != null ? client.cookieJar() : OkHttp5.cookieJar(chain);
    }

    private void receiveCookies(Chain chain, HttpUrl url, Headers headers) {
        CookieJar jar = cookieJar(chain);
        if (jar == CookieJar.NO_COOKIES) {
            return;
        }
        List<Cookie> cookies = Cookie.parseAll(url, headers);
        if (!cookies.isEmpty()) {
            jar.saveFromResponse(url, cookies);
        }
    }

    private void checkSupported(Chain chain) {
        if (client != null) {
            if (client.cache() != null) {
                warnCache();
            }
            return; // pins and proxies were refused when the factory was created
        }
        if (!OkHttp5.certificatePinner(chain).getPins().isEmpty()) {
            throw new IllegalStateException("BerthInterceptor cannot apply the client's CertificatePinner (Berth's"
                    + " pools own TLS): refusing to send without the pins; set trust on the BerthPools instead");
        }
        Proxy proxy = OkHttp5.proxy(chain);
        if (proxy != null && proxy.type() != Proxy.Type.DIRECT) {
            throw new IllegalStateException("BerthInterceptor cannot go through the client's proxy " + proxy
                    + ": Berth connects directly; refusing to bypass it");
        }
        if (OkHttp5.cache(chain) != null) {
            warnCache();
        }
    }

    private static void warnCache() {
        if (CACHE_WARNED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "the OkHttpClient has a Cache, which BerthInterceptor bypasses:"
                    + " responses are neither served from nor stored in it");
        }
    }

    static URI origin(HttpUrl url) {
        return URI.create(Origin.of(url.isHttps(), url.host(), url.port()).toString());
    }

    static String target(HttpUrl url) {
        String query = url.encodedQuery();
        return query == null ? url.encodedPath() : url.encodedPath() + "?" + query;
    }

    @Override
    public String toString() {
        return "BerthInterceptor{" + pools.clients().size() + " pools}";
    }
}
