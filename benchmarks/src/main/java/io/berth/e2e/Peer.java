package io.berth.e2e;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A client library under test and how it is configured. Each peer is set up as its own
 * documentation recommends for a pooled keep-alive HTTP/1.1 client, or, for the {@link #H2} peers,
 * for a high-concurrency HTTP/2 backend (h2 offered first through ALPN, one connection unless the
 * library opens more by itself), with the same TLS for all: TLS 1.3, trusting exactly the
 * benchmark's CA, host name (here the IP SAN) verified. Nothing is tuned for one peer that is not
 * offered to the others. An HTTP/2 peer runs against nginx's h2 listener ({@link Target#onH2()}),
 * the others against the HTTP/1.1 one.
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
     * The HTTP/2 peers, measured only when named ({@code run.sh --h2} names them): each client over
     * h2 against nginx's h2 listener. {@code berth-h2} is Berth's own client over a pool whose backend
     * offers h2 ({@link BerthPeer#offeringH2}), {@code berth-jdk-h2} Berth's {@code java.net.http}
     * drop-in built with {@code version(HTTP_2)} over pools that offer h2; {@code okhttp-h2}, {@code jdk-h2}
     * and {@code jetty-h2} the peers over h2. A peer whose probe exchange is not served over HTTP/2
     * fails its set-up rather than be measured over HTTP/1.1.
     */
    static final List<String> H2 = List.of("berth-h2", "berth-jdk-h2", "okhttp-h2", "jdk-h2", "jetty-h2");

    /**
     * Variants measured only when named: {@code berth-read}, Berth's own API with
     * {@code validateAfterIdle} zero (a socket read before every reuse), to price that read;
     * {@code berth-identity}, Berth's own API with {@code decompressGzip} off: no
     * {@code Accept-Encoding}, so the floor's request byte for byte, to price that header;
     * {@code berth-conscrypt}, Berth's own API over Conscrypt's JSSE provider (BoringSSL);
     * {@code berth-before}, Berth's own API as built from another source tree ({@link BeforePeer}), and
     * {@code berth-before-h2}, that tree's {@code berth-h2}; {@code floor-twin}, a second floor with
     * sockets of its own: its ratio to the floor, which in truth is 1, shows how far two identical
     * clients' figures part in the same run (the run's own resolution); {@code floor-nio}, the floor
     * over an {@code SSLEngine} and a blocking {@code SocketChannel}, the JDK path Berth's transport
     * takes, without Berth; {@code berth-transport}, Berth's transport and HTTP/1.1 codec without its
     * pool and client, one connection per caller ({@link TransportPeer}).
     */
    static final List<String> VARIANTS = List.of("berth-read", "berth-identity", "berth-conscrypt", "berth-before",
            "berth-before-h2", "floor-twin", "floor-nio", "berth-transport");

    private final String name;
    private final boolean h2;

    Peer(String name) {
        this(name, false);
    }

    /**
     * @param name the peer's name in the tables
     * @param h2 whether it speaks HTTP/2, against the h2 listener
     */
    Peer(String name, boolean h2) {
        this.name = name;
        this.h2 = h2;
    }

    /** @return the peer's name in the tables */
    final String name() {
        return name;
    }

    /** @return whether the peer speaks HTTP/2, against nginx's h2 listener, rather than HTTP/1.1 */
    final boolean h2() {
        return h2;
    }

    /** @return the target as this peer sees it: through the h2 listener if it speaks HTTP/2 */
    final Target targetOf(Target target) {
        return h2 ? target.onH2() : target;
    }

    /**
     * @param name one of {@link #ALL}, {@link #H2} or {@link #VARIANTS}
     * @return the peer
     * @throws IllegalArgumentException if the name is unknown
     */
    static Peer named(String name) {
        switch (name) {
            case "berth":
                return new BerthPeer();
            case "berth-read":
                return new BerthPeer("berth-read", b -> b.validateAfterIdle(java.time.Duration.ZERO));
            case "berth-identity":
                return new BerthPeer("berth-identity", b -> b.decompressGzip(false));
            case "berth-conscrypt":
                return new BerthPeer("berth-conscrypt", b -> b, t -> t.provider(org.conscrypt.Conscrypt.newProvider()));
            case "berth-before":
                return new BeforePeer(false);
            case "berth-before-h2":
                return new BeforePeer(true);
            case "berth-h2":
                return new BerthPeer("berth-h2", true, b -> b, t -> t);
            case "berth-jdk":
                return new BerthJdkPeer(false);
            case "berth-jdk-h2":
                return new BerthJdkPeer(true);
            case "okhttp":
                return new OkHttpPeer(false);
            case "okhttp-h2":
                return new OkHttpPeer(true);
            case "apache":
                return new ApachePeer();
            case "jdk":
                return new JdkPeer(false);
            case "jdk-h2":
                return new JdkPeer(true);
            case "jetty":
                return new JettyPeer(false);
            case "jetty-h2":
                return new JettyPeer(true);
            case "floor":
                return new FloorPeer("floor", false);
            case "floor-twin":
                return new FloorPeer("floor-twin", false);
            case "floor-nio":
                return new FloorPeer("floor-nio", true);
            case "berth-transport":
                return new TransportPeer();
            default:
                throw new IllegalArgumentException("unknown client '" + name + "'; known: " + ALL + ", " + H2 + " and "
                        + VARIANTS);
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

    /**
     * The seed scenario's state of a client without a pool: one client, connected by the first
     * caller, whose connection each new instance uses in turn (what an ideal pool would do).
     *
     * @param one the client every instance delegates to; closed with the shared state
     * @param what what that client holds, for the report
     * @return the shared state
     */
    static Shared handedOn(Client one, String what) {
        return new Shared() {
            @Override
            public Client newInstance() {
                return new Client() {
                    @Override
                    public void get() throws Exception {
                        one.get();
                    }

                    @Override
                    public String getTls() throws Exception {
                        return one.getTls();
                    }

                    @Override
                    public Held hold() throws Exception {
                        return one.hold();
                    }

                    @Override
                    public void close() {
                        // the connection stays open for the next caller
                    }
                };
            }

            @Override
            public String sharing() {
                return what + ", handed from each caller to the next";
            }

            @Override
            public void close() throws IOException {
                one.close();
            }
        };
    }

    /**
     * What {@code holder} holds, made by {@code make} the first time. No lock is held while it is made
     * (making may read files; callers then connect with it): of two callers that race, one's value is
     * kept and the other's dropped unused.
     *
     * @return the value every caller shares
     */
    static <T> T once(AtomicReference<T> holder, Supplier<T> make) {
        T v = holder.get();
        if (v == null) {
            holder.compareAndSet(null, make.get());
            v = holder.get();
        }
        return v;
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
