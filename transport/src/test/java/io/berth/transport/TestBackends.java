package io.berth.transport;

import io.berth.Backend;
import io.berth.Server;
import io.berth.TlsConfig;
import io.berth.transport.testing.TestPki;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Backends and settings shared by the transport tests. */
final class TestBackends {
    static final long CONNECT_TIMEOUT = TimeUnit.SECONDS.toNanos(5);

    private TestBackends() {
    }

    /** @return settings trusting exactly {@link TestPki#CA} */
    static TlsConfig.Builder trustingTestCa() {
        return TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate()));
    }

    static Backend https(int port, TlsConfig tls) {
        return Backend.builder().server("127.0.0.1", port).tls(tls).build();
    }

    static Backend http(int port) {
        return Backend.builder().secure(false).server("127.0.0.1", port).build();
    }

    static Server loopback(int port) {
        return Server.of("127.0.0.1", port);
    }
}
