package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.TestPki;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link VirtualThreadsTest} with one carrier thread that cannot be compensated
 * ({@code -Djdk.virtualThreadScheduler.parallelism=1 -Djdk.virtualThreadScheduler.maxPoolSize=1}):
 * a caller that held the carrier while waiting would stop every other, and the bound turns that into
 * a failure. Tagged {@code one-carrier}: it runs in its own JVM, the Surefire execution of that name
 * in this module, which sets the flags. Skipped before JDK 21.
 */
@Tag("one-carrier")
@ExtendWith(Hygiene.class)
class VirtualThreadsOneCarrierTest {
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
    void twoThousandVirtualCallersOnOneCarrier() throws Exception {
        Assumptions.assumeTrue(VirtualThreadLoad.available(), "virtual threads need JDK 21 or later");
        assertThat(Integer.getInteger("jdk.virtualThreadScheduler.maxPoolSize"))
                .as("run by the one-carrier execution, with one carrier").isEqualTo(1);
        server = HttpTestServer.start(TestPki.server().context(), r -> VirtualThreadLoad.reply());
        VirtualThreadLoad.run(server, 2_000, 3, 16);
    }
}
