package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.CloseReason;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.ReusePolicy;
import java.util.stream.Stream;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every cell of DESIGN.md's ReusePolicy table, through the pool, for a backend of one server and of
 * three (where the idle connection is on one server and the request may look at all of them).
 */
@ParameterizedClass(name = "{0} server(s)")
@ValueSource(ints = {1, 3})
class ReusePolicyTableTest {
    @Parameter
    int servers;

    static Stream<Arguments> table() {
        // policy, replayable request, proven connection, may the idle connection carry it?
        return Stream.of(
                Arguments.of("never", true, true, false),
                Arguments.of("never", true, false, false),
                Arguments.of("never", false, true, false),
                Arguments.of("never", false, false, false),
                Arguments.of("safe", true, true, true),
                Arguments.of("safe", true, false, true),
                Arguments.of("safe", false, true, false),
                Arguments.of("safe", false, false, false),
                Arguments.of("aggressive", true, true, true),
                Arguments.of("aggressive", true, false, true),
                Arguments.of("aggressive", false, true, true),
                Arguments.of("aggressive", false, false, false),
                Arguments.of("always", true, true, true),
                Arguments.of("always", true, false, true),
                Arguments.of("always", false, true, true),
                Arguments.of("always", false, false, true));
    }

    @ParameterizedTest(name = "{0}: replayable={1} proven={2} -> reuse={3}")
    @MethodSource("table")
    void idleConnectionCarriesRequestExactlyAsTheTableSays(String policyName, boolean replayable, boolean proven,
            boolean reuse) throws Exception {
        ReusePolicy policy = ReusePolicy.named(policyName);
        try (PoolFixture f = new PoolFixture(servers, b -> b.reusePolicy(policy))) {
            // Build an idle connection that carried one exchange (unproven) or two (proven).
            int exchanges = proven ? 2 : 1;
            for (int i = 0; i < exchanges; i++) {
                Lease l = f.pool.acquire(true);
                f.pool.release(l, Outcome.REUSABLE);
            }
            if (policy == ReusePolicy.NEVER) {
                assertThat(f.pool.idleCount()).as("NEVER keeps no shared idle set").isZero();
                assertThat(f.pool.stats().closed(CloseReason.NOT_SHARED)).isEqualTo(exchanges);
            } else {
                assertThat(f.pool.idleCount()).isEqualTo(1);
                assertThat(f.pool.stats().connections().get(0).proven()).isEqualTo(proven);
            }
            int openedBefore = f.connector.opened();

            Lease lease = f.pool.acquire(replayable);

            assertThat(lease.reused()).isEqualTo(reuse);
            assertThat(f.connector.opened()).isEqualTo(reuse ? openedBefore : openedBefore + 1);
            f.pool.release(lease, Outcome.REUSABLE);
        }
    }
}
