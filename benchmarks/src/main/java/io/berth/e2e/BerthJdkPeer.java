package io.berth.e2e;

import io.berth.BackendPoolConfig;
import io.berth.HttpProtocol;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthPools;
import io.berth.pool.jdk.BerthHttpClient;
import java.net.http.HttpClient;
import java.util.List;

/**
 * Berth through its {@code java.net.http} adapter, {@link BerthHttpClient}: the very calls of
 * {@link JdkPeer} (same requests, same {@code BodyHandlers.ofByteArray()}), sent through an
 * {@link java.net.http.HttpClient} that runs them over {@link BerthPools}.
 *
 * <ul>
 *   <li>Closed loop: the pools configured as {@link BerthPeer}'s pool ({@code maxConnections} = C,
 *       {@code idleTimeout} = {@link Peer#IDLE}, TLS trusting the CA's PEM file, TLS 1.3 only); one
 *       client made with {@link BerthHttpClient#create(BerthPools)}, its other settings at their
 *       defaults.</li>
 *   <li>Seed scenario: one {@code BerthPools}; a new {@code BerthHttpClient.create(pools)} per
 *       caller, which shares the pools (closing it leaves them open).</li>
 *   <li>{@code berth-jdk-h2}: the client built with {@code version(HTTP_2)} (as {@code jdk-h2}), over
 *       pools that offer h2, then http/1.1, to {@code https} origins
 *       ({@link BerthPools.Builder#protocols}), as a user turns HTTP/2 on for shared pools.</li>
 * </ul>
 */
final class BerthJdkPeer extends JdkPeer {
    /** @param h2 {@code berth-jdk-h2}: over HTTP/2, the client built with {@code version(HTTP_2)} */
    BerthJdkPeer(boolean h2) {
        super(h2 ? "berth-jdk-h2" : "berth-jdk", h2);
    }

    private BerthPools pools(Target t, BackendPoolConfig config) {
        TlsConfig tls = TlsConfig.builder().trustPemFile(t.caPem()).protocols(List.of(Tls.PROTOCOL)).build();
        BerthPools.Builder b = BerthPools.builder().defaults(config).tls(tls);
        if (h2()) {
            b.protocols(HttpProtocol.HTTP_2, HttpProtocol.HTTP_1_1);
        }
        return b.build();
    }

    private HttpClient client(BerthPools pools) {
        return BerthHttpClient.newBuilder().pools(pools).version(version()).build();
    }

    @Override
    Client pooled(Target t, int connections) {
        BerthPools pools = pools(t, BackendPoolConfig.builder().maxConnections(connections).idleTimeout(IDLE).build());
        return new JdkCaller(client(pools), t, pools);
    }

    @Override
    Client fresh(Target t) {
        // New pools: a new connector per origin, so a new SSLContext and an empty session cache.
        BerthPools pools = pools(t, BackendPoolConfig.defaults());
        return new JdkCaller(client(pools), t, pools);
    }

    @Override
    Shared shared(Target t) {
        BerthPools pools = pools(t, BackendPoolConfig.defaults());
        return new Shared() {
            @Override
            public Client newInstance() {
                return new JdkCaller(client(pools), t, null);
            }

            @Override
            public String sharing() {
                return "one BerthPools; a new BerthHttpClient.create(pools) per caller";
            }

            @Override
            public void close() {
                pools.close();
            }
        };
    }
}
