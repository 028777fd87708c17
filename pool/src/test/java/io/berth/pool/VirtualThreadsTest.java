package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * 2,000 virtual threads through one pool of 16 connections to a real TLS server: no pinning, no
 * extra carrier (see {@link VirtualThreadLoad}). Skipped before JDK 21.
 */
@ExtendWith(Hygiene.class)
class VirtualThreadsTest {
    private HttpTestServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
            assertThat(server.failures()).isEmpty();
        }
    }

    @Test
    @Timeout(120)
    void twoThousandVirtualCallersOnSixteenConnectionsNeverPinTheirCarriers() throws Exception {
        Assumptions.assumeTrue(VirtualThreadLoad.available(), "virtual threads need JDK 21 or later");
        server = HttpTestServer.start(TestPki.server().context(), r -> VirtualThreadLoad.reply());
        VirtualThreadLoad.run(server, 2_000, 3, 16);
    }
}
