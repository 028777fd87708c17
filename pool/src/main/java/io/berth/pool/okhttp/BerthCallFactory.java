package io.berth.pool.okhttp;

import io.berth.BackendPoolConfig;
import io.berth.pool.http.BerthPools;
import java.io.IOException;
import java.net.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * A {@link Call.Factory} whose calls run over Berth: the calls of an {@code OkHttpClient}, with its
 * application interceptors, cookie jar, authenticator, redirect settings, timeouts and dispatcher,
 * whose requests a {@link BerthInterceptor} placed last executes over a {@link BerthPools}. Use it
 * wherever a {@code Call.Factory} is taken (e.g. Retrofit's {@code callFactory}), or call
 * {@link #newCall} directly:
 *
 * <pre>{@code
 * try (BerthCallFactory calls = BerthCallFactory.create(okHttpClient)) {
 *     try (Response response = calls.newCall(new Request.Builder().url(url).build()).execute()) {
 *         String body = response.body().string();
 *     }
 * }
 * }</pre>
 *
 * <p>Over a plain {@link BerthInterceptor} in the client, its calls add:
 * <ul>
 *   <li>the interceptor is always last (one the client already has is moved to the end);</li>
 *   <li>the call timeout ({@code callTimeout}, or {@code call.timeout()} changed before executing)
 *       runs from the start of the interceptor chain, as in OkHttp, to the end of the response body;
 *       when it fires the call is cancelled and fails with {@code InterruptedIOException("timeout")};</li>
 *   <li>callbacks of {@code enqueue} get the factory's call.</li>
 * </ul>
 * {@code execute}, {@code enqueue} (on the client's {@code Dispatcher}, within its limits),
 * {@code cancel} (prompt, before or during the exchange or while the body is read: the Berth
 * connection is aborted and discarded) and {@code clone} behave as OkHttp's. Everything else, and
 * what is not supported, is as {@link BerthInterceptor} says.
 *
 * <p>Works with OkHttp 4.12 and 5 (what only 5 has is found at run time); on OkHttp 4,
 * {@code Call.cancel()} of a factory's call aborts the exchange through the factory's call itself.
 *
 * <p>Thread-safe.
 */
public final class BerthCallFactory implements Call.Factory, AutoCloseable {
    private final OkHttpClient client;
    private final int callTimeoutMillis;
    private final BerthPools pools;
    private final boolean ownsPools;

    private BerthCallFactory(OkHttpClient client, BerthPools pools, boolean ownsPools) {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(pools, "pools");
        OkHttpVersion.checkSupported();
        if (!client.certificatePinner().getPins().isEmpty()) {
            throw new IllegalArgumentException("client has a CertificatePinner, which Berth cannot apply (its pools"
                    + " own TLS); set trust on the BerthPools instead");
        }
        Proxy proxy = client.proxy();
        if (proxy != null && proxy.type() != Proxy.Type.DIRECT) {
            throw new IllegalArgumentException("client has proxy " + proxy + ", but Berth connects directly");
        }
        OkHttpClient.Builder b = client.newBuilder().callTimeout(0, TimeUnit.MILLISECONDS);
        List<Interceptor> interceptors = b.interceptors();
        interceptors.removeIf(i -> i instanceof BerthInterceptor || i instanceof CallStart);
        interceptors.add(0, CallStart.INSTANCE);
        interceptors.add(new BerthInterceptor(pools, client));
        this.client = b.build();
        this.callTimeoutMillis = client.callTimeoutMillis();
        this.pools = pools;
        this.ownsPools = ownsPools;
    }

    /**
     * @param client the client whose settings and interceptors the calls use; it is not changed
     * @param pools the pools the calls run over; they stay the caller's to close
     * @return a factory
     * @throws IllegalArgumentException if the client pins certificates or names a proxy, which Berth
     *     cannot apply
     * @throws NullPointerException if an argument is null
     * @throws UnsupportedOperationException if the OkHttp on the class path is older than 4.12, naming it
     */
    public static BerthCallFactory create(OkHttpClient client, BerthPools pools) {
        return new BerthCallFactory(client, pools, false);
    }

    /**
     * A factory over pools of its own, whose default settings take the client's connect timeout (see
     * {@link #poolDefaults}) and trust the JDK's trust store, and which offer {@code h2} (then
     * {@code http/1.1}) to {@code https} origins when the client's {@code protocols()} include
     * {@code HTTP_2}, as OkHttp's do by default; {@link #close()} closes them.
     *
     * @param client the client whose settings and interceptors the calls use; it is not changed
     * @return a factory; close it when done
     * @throws IllegalArgumentException if the client pins certificates or names a proxy
     * @throws NullPointerException if {@code client} is null
     */
    public static BerthCallFactory create(OkHttpClient client) {
        BerthPools.Builder pools = BerthPools.builder().defaults(poolDefaults(client).build());
        if (client.protocols().contains(okhttp3.Protocol.HTTP_2)) {
            pools.protocols(io.berth.HttpProtocol.HTTP_2, io.berth.HttpProtocol.HTTP_1_1);
        }
        return new BerthCallFactory(client, pools.build(), true);
    }

    /**
     * Pool settings that carry over what of an {@code OkHttpClient} belongs to the pool rather than
     * the request: its connect timeout becomes {@code connectTimeout} (a client's 0, no timeout,
     * becomes a year). Read, write and call timeouts need no carrying: they apply per request.
     *
     * <pre>{@code
     * BerthPools pools = BerthPools.builder()
     *         .defaults(BerthCallFactory.poolDefaults(client).reusePolicy(ReusePolicy.AGGRESSIVE).build())
     *         .build();
     * }</pre>
     *
     * @param client the client
     * @return a builder starting from Berth's defaults with the client's connect timeout
     */
    public static BackendPoolConfig.Builder poolDefaults(OkHttpClient client) {
        int connect = client.connectTimeoutMillis();
        return BackendPoolConfig.builder()
                .connectTimeout(connect > 0 ? Duration.ofMillis(connect) : BerthInterceptor.NO_TIMEOUT);
    }

    /**
     * @param request the request
     * @return a new call, not yet executed
     */
    @Override
    public Call newCall(Request request) {
        return new BerthCall(this, client, request, callTimeoutMillis);
    }

    /** @return the pools the calls run over */
    public BerthPools pools() {
        return pools;
    }

    /**
     * Closes the pools if this factory made them ({@link #create(OkHttpClient)}); otherwise does
     * nothing. Calls in flight fail. Idempotent.
     */
    @Override
    public void close() {
        if (ownsPools) {
            pools.close();
        }
    }

    @Override
    public String toString() {
        return "BerthCallFactory{" + pools.clients().size() + " pools}";
    }

    /** The first interceptor of a factory's client: starts the call timeout when the chain starts, as OkHttp does. */
    static final class CallStart implements Interceptor {
        static final CallStart INSTANCE = new CallStart();

        @Override
        public Response intercept(Chain chain) throws IOException {
            CallState state = chain.request().tag(CallState.class);
            if (state != null) {
                state.start();
            }
            return chain.proceed(chain.request());
        }
    }
}
