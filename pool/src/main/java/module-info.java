/**
 * Berth's pool: the lock-free pool engine, the HTTP client over it, the {@code java.net.http} and
 * OkHttp adapters, and Micrometer metrics. The one dependency an application adds.
 */
module io.berth.pool {
    requires transitive io.berth;
    requires io.berth.transport;
    requires static transitive micrometer.core;

    exports io.berth.pool;
    exports io.berth.pool.micrometer;
}
