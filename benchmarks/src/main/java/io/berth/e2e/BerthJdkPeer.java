package io.berth.e2e;

import io.berth.BackendPoolConfig;
import io.berth.TlsConfig;
import io.berth.pool.BerthPools;
import java.lang.reflect.Method;
import java.net.http.HttpClient;
import java.util.List;

/**
 * Berth through its {@code java.net.http} adapter, {@code io.berth.pool.jdk.BerthHttpClient}: the
 * very calls of {@link JdkPeer} (same requests, same {@code BodyHandlers.ofByteArray()}), sent
 * through an {@link HttpClient} that runs them over {@link BerthPools}.
 *
 * <p>The pools are configured as {@link BerthPeer}'s pool: {@code maxConnections} = C,
 * {@code idleTimeout} = {@link Peer#IDLE}, TLS trusting the CA's PEM file, TLS 1.3 only.
 *
 * <p>TODO(berth-jdk): the adapter is being written on another branch. Until it is merged the class is
 * absent and this peer is skipped (reported as such). It is looked up by reflection, through the
 * factory {@code BerthHttpClient.create(BerthPools)}; once merged, replace {@link #newClient} with a
 * direct call.
 */
final class BerthJdkPeer extends JdkPeer {
    static final String ADAPTER = "io.berth.pool.jdk.BerthHttpClient";

    private final Method create;

    private BerthJdkPeer(Method create) {
        super("berth-jdk");
        this.create = create;
    }

    static BerthJdkPeer create() throws Unavailable {
        Class<?> adapter;
        try {
            adapter = Class.forName(ADAPTER);
        } catch (ClassNotFoundException e) {
            throw new Unavailable(ADAPTER + " is not on this branch yet (TODO: add it once merged)");
        }
        try {
            return new BerthJdkPeer(adapter.getMethod("create", BerthPools.class));
        } catch (NoSuchMethodException e) {
            throw new Unavailable(ADAPTER + " has no create(BerthPools): update BerthJdkPeer.newClient");
        }
    }

    private HttpClient newClient(BerthPools pools) throws Exception {
        return (HttpClient) create.invoke(null, pools);
    }

    private static BerthPools pools(Target t, BackendPoolConfig config) {
        TlsConfig tls = TlsConfig.builder().trustPemFile(t.caPem()).protocols(List.of(Tls.PROTOCOL)).build();
        return BerthPools.builder().defaults(config).tls(tls).build();
    }

    @Override
    Client pooled(Target t, int connections) throws Exception {
        BerthPools pools = pools(t, BackendPoolConfig.builder().maxConnections(connections).idleTimeout(IDLE).build());
        return new JdkCaller(newClient(pools), t, pools);
    }

    @Override
    Client fresh(Target t) throws Exception {
        BerthPools pools = pools(t, BackendPoolConfig.defaults());
        return new JdkCaller(newClient(pools), t, pools);
    }

    @Override
    Shared shared(Target t) {
        BerthPools pools = pools(t, BackendPoolConfig.defaults());
        return new Shared() {
            @Override
            public Client newInstance() throws Exception {
                return new JdkCaller(newClient(pools), t, null);
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
