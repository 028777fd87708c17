package io.berth.transport.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The real servers' port hand-out: what keeps two listeners of one configuration apart. */
class ServerProcessTest {
    /**
     * The kernel picks {@code bind(0)}'s port from about 7,000 here, so 500 plain picks coincide about
     * 18 times (all distinct by chance: about 1 in 50 million); {@link ServerProcess#freePort} never
     * hands out a port twice.
     */
    @Test
    void freePortNeverHandsOutAPortTwice() throws Exception {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            int port = ServerProcess.freePort();
            assertThat(ports.add(port)).as("port %d handed out twice, after %d others", port, i).isTrue();
        }
    }

    @Test
    void portsOfOneSetupAreDistinctAndStableByName() {
        ServerProcess.Ports ports = new ServerProcess.Ports();
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            assertThat(seen.add(ports.port("listener " + i))).isTrue();
        }
        assertThat(ports.port("listener 7")).isEqualTo(ports.existing("listener 7"));
        assertThat(ports.all()).hasSize(50);
    }
}
