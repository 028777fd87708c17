package io.berth.e2e;

import io.berth.BackendPoolConfig;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthPools;
import io.berth.pool.jdk.BerthHttpClient;
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
 * </ul>
 */
final class BerthJdkPeer extends JdkPeer {
    BerthJdkPeer() {
        super("berth-jdk");
    }

    private static BerthPools pools(Target t, BackendPoolConfig config) {
        TlsConfig tls = TlsConfig.builder().trustPemFile(t.caPem()).protocols(List.of(Tls.PROTOCOL)).build();
        return BerthPools.builder().defaults(config).tls(tls).build();
    }

    @Override
    Client pooled(Target t, int connections) {
        BerthPools pools = pools(t, BackendPoolConfig.builder().maxConnections(connections).idleTimeout(IDLE).build());
        return new JdkCaller(BerthHttpClient.create(pools), t, pools);
    }

    @Override
    Client fresh(Target t) {
        // New pools: a new connector per origin, so a new SSLContext and an empty session cache.
        BerthPools pools = pools(t, BackendPoolConfig.defaults());
        return new JdkCaller(BerthHttpClient.create(pools), t, pools);
    }

    @Override
    Shared shared(Target t) {
        BerthPools pools = pools(t, BackendPoolConfig.defaults());
        return new Shared() {
            @Override
            public Client newInstance() {
                return new JdkCaller(BerthHttpClient.create(pools), t, null);
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
