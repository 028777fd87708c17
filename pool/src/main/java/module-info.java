/**
 * Berth's pool: the lock-free pool engine ({@code io.berth.pool}, whose only public type is the
 * factory {@code Berth}), the HTTP client over it ({@code io.berth.pool.http}), the
 * {@code java.net.http} and OkHttp adapters, and Micrometer metrics; {@code io.berth.pool.internal} is
 * not exported. The one dependency an application adds. OkHttp and Micrometer are optional: only the
 * adapter and the binder that use them need them, and a module that uses one requires its library
 * itself ({@code requires okhttp3;}, {@code requires micrometer.core;}). They are {@code requires
 * static} without {@code transitive}: a transitive one would make every module that requires this one
 * need them to compile.
 */
module io.berth.pool {
    requires transitive io.berth;
    requires io.berth.transport;
    requires transitive java.net.http;
    requires static micrometer.core;
    requires static okhttp3;
    requires static okio;
    requires static kotlin.stdlib;

    exports io.berth.pool;
    exports io.berth.pool.http;
    exports io.berth.pool.jdk;
    exports io.berth.pool.micrometer;
    exports io.berth.pool.okhttp;
}
