package io.berth.e2e;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A client library under test and how it is configured. Each peer is set up as its own
 * documentation recommends for a pooled keep-alive HTTP/1.1 client, with the same TLS for all: TLS
 * 1.3, trusting exactly the benchmark's CA, host name (here the IP SAN) verified. Nothing is tuned
 * for one peer that is not offered to the others.
 */
abstract class Peer {
    /**
     * How long an idle pooled connection is kept in the closed loop, wherever the client has such a
     * setting (Berth {@code idleTimeout}, OkHttp {@code keepAliveDuration}, Jetty {@code idleTimeout},
     * JDK {@code jdk.httpclient.keepalive.timeout}; Apache has no idle expiry by default). Each client
     * sits idle while the others are measured; a per-round warm-up reopens anything closed anyway.
     */
    static final Duration IDLE = Duration.ofMinutes(5);

    /** Every peer, in the order of the table. */
    static final List<String> ALL = List.of("berth", "berth-jdk", "okhttp", "apache", "jdk", "jetty", "floor");

    /**
     * Variants measured only when named: {@code berth-read}, Berth's own API with
     * {@code validateAfterIdle} zero (a socket read before every reuse), to price that read;
     * {@code berth-conscrypt}, Berth's own API over Conscrypt's JSSE provider (BoringSSL);
     * {@code berth-before}, Berth's own API as built from another source tree ({@link BeforePeer}).
     */
    static final List<String> VARIANTS = List.of("berth-read", "berth-conscrypt", "berth-before");

    private final String name;

    Peer(String name) {
        this.name = name;
    }

    /** @return the peer's name in the tables */
    final String name() {
        return name;
    }

    /**
     * @param name one of {@link #ALL} or {@link #VARIANTS}
     * @return the peer
     * @throws IllegalArgumentException if the name is unknown
     */
    static Peer named(String name) {
        switch (name) {
            case "berth":
                return new BerthPeer();
            case "berth-read":
                return new BerthPeer("berth-read", b -> b.validateAfterIdle(java.time.Duration.ZERO));
            case "berth-conscrypt":
                return new BerthPeer("berth-conscrypt", b -> b, t -> t.provider(org.conscrypt.Conscrypt.newProvider()));
            case "berth-before":
                return new BeforePeer();
            case "berth-jdk":
                return new BerthJdkPeer();
            case "okhttp":
                return new OkHttpPeer();
            case "apache":
                return new ApachePeer();
            case "jdk":
                return new JdkPeer();
            case "jetty":
                return new JettyPeer();
            case "floor":
                return new FloorPeer();
            default:
                throw new IllegalArgumentException("unknown client '" + name + "'; known: " + ALL + " and " + VARIANTS);
        }
    }

    /**
     * The closed loop's client: pooled, sized for {@code connections} concurrent callers, idle
     * connections kept for {@link #IDLE}.
     *
     * @param target the server
     * @param connections the number of concurrent callers
     * @return a client shared by all callers, or, if {@link #clientPerCaller()}, one caller's client
     * @throws Exception if it could not be built
     */
    abstract Client pooled(Target target, int connections) throws Exception;

    /** @return whether each caller of the closed loop needs its own {@link #pooled} client (the floor) */
    boolean clientPerCaller() {
        return false;
    }

    /**
     * The cold path's client: a new instance with a new TLS context (an empty session cache) and
     * the library's default pool settings.
     *
     * @param target the server
     * @return a new client, not yet connected
     * @throws Exception if it could not be built
     */
    abstract Client fresh(Target target) throws Exception;

    /**
     * The seed scenario's shared state: what new client instances of this library can share (a
     * connection pool where the library allows it, and the TLS context), with its defaults.
     *
     * @param target the server
     * @return the shared state; closing it closes the pool
     * @throws Exception if it could not be built
     */
    abstract Shared shared(Target target) throws Exception;

    /** State shared by new client instances in the seed scenario. */
    interface Shared extends AutoCloseable {
        /**
         * @return a new client instance over the shared state; closing it leaves the shared state open
         * @throws Exception if it could not be built
         */
        Client newInstance() throws Exception;

        /** @return what the instances share, for the report */
        String sharing();

        @Override
        void close() throws IOException;
    }

    /** @return the peers of these names, in that order */
    static List<Peer> named(List<String> names) {
        List<Peer> peers = new ArrayList<>();
        for (String n : names) {
            peers.add(named(n));
        }
        return peers;
    }
}
