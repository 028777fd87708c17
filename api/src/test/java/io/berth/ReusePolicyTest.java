package io.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReusePolicyTest {

    private static ConnectionInfo connection(int uses) {
        return new ConnectionInfo() {
            @Override
            public long id() {
                return 1;
            }

            @Override
            public Server server() {
                return Server.of("backend.test", 443);
            }

            @Override
            public int uses() {
                return uses;
            }

            @Override
            public long createdNanos() {
                return 0;
            }

            @Override
            public long lastUsedNanos() {
                return 0;
            }

            @Override
            public boolean tlsSessionResumed() {
                return false;
            }

            @Override
            public String describe() {
                return "test";
            }
        };
    }

    @ParameterizedTest(name = "{0}: replayable={1} uses={2} -> {3}")
    @CsvSource({
        "never, true, 2, false", "never, true, 1, false", "never, false, 2, false", "never, false, 1, false",
        "safe, true, 2, true", "safe, true, 1, true", "safe, false, 2, false", "safe, false, 1, false",
        "aggressive, true, 2, true", "aggressive, true, 1, true", "aggressive, false, 2, true",
        "aggressive, false, 1, false",
        "always, true, 2, true", "always, true, 1, true", "always, false, 2, true", "always, false, 1, true"
    })
    void tableOfDesign(String name, boolean replayable, int uses, boolean expected) {
        assertThat(ReusePolicy.named(name).mayCarry(replayable, connection(uses))).isEqualTo(expected);
    }

    @Test
    void onlyNeverKeepsNoSharedIdleSet() {
        assertThat(ReusePolicy.NEVER.sharesIdleConnections()).isFalse();
        assertThat(ReusePolicy.SAFE.sharesIdleConnections()).isTrue();
        assertThat(ReusePolicy.AGGRESSIVE.sharesIdleConnections()).isTrue();
        assertThat(ReusePolicy.ALWAYS.sharesIdleConnections()).isTrue();
    }

    @Test
    void provenMeansTwoExchanges() {
        assertThat(connection(1).proven()).isFalse();
        assertThat(connection(2).proven()).isTrue();
    }

    @Test
    void namedParsesAnyCaseAndRejectsOthers() {
        assertThat(ReusePolicy.named(" Aggressive ")).isSameAs(ReusePolicy.AGGRESSIVE);
        assertThat(ReusePolicy.SAFE).hasToString("safe");
        assertThatThrownBy(() -> ReusePolicy.named("sometimes"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("reusePolicy must be never, safe, aggressive or always but was 'sometimes'");
    }
}
