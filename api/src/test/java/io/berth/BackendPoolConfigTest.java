package io.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BackendPoolConfigTest {

    static Stream<Arguments> invalidValues() {
        return Stream.of(
                bad(b -> b.maxConnections(0), "maxConnections must be >= 1 but was 0"),
                bad(b -> b.maxIdle(-2), "maxIdle must be -1 or >= 0 but was -2"),
                bad(b -> b.minIdle(-1), "minIdle must be >= 0 but was -1"),
                bad(b -> b.purgeDelay(Duration.ZERO), "purgeDelay must be positive but was PT0S"),
                bad(b -> b.purgeDelay(Duration.ofSeconds(-1)), "purgeDelay must be positive but was PT-1S"),
                bad(b -> b.idleTimeout(Duration.ofMillis(-5)), "idleTimeout must be positive but was PT-0.005S"),
                bad(b -> b.validateAfterIdle(Duration.ofMillis(-1)),
                        "validateAfterIdle must be positive, or zero for a read before every reuse, but was PT-0.001S"),
                bad(b -> b.maxLifetime(Duration.ofSeconds(-1)),
                        "maxLifetime must be positive, or zero for no limit, but was PT-1S"),
                bad(b -> b.maxUses(0), "maxUses must be -1 or >= 1 but was 0"),
                bad(b -> b.maxUses(-3), "maxUses must be -1 or >= 1 but was -3"),
                bad(b -> b.acquireTimeout(Duration.ofSeconds(-1)),
                        "acquireTimeout must be positive, or zero for no waiting, but was PT-1S"),
                bad(b -> b.connectTimeout(Duration.ZERO), "connectTimeout must be positive but was PT0S"),
                bad(b -> b.responseTimeout(Duration.ZERO), "responseTimeout must be positive but was PT0S"),
                bad(b -> b.retries(-1), "retries must be >= 0 but was -1"),
                bad(b -> b.maxResponseHeadSize(1023), "maxResponseHeadSize must be >= 1024 but was 1023"),
                bad(b -> b.leakDetectionThreshold(Duration.ofSeconds(-1)),
                        "leakDetectionThreshold must be positive, or zero for off, but was PT-1S"),
                bad(b -> b.name(" "), "name must not be blank but was ' '"));
    }

    private static Arguments bad(Consumer<BackendPoolConfig.Builder> setter, String message) {
        return Arguments.of(setter, message);
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("invalidValues")
    void everyBadValueIsRejectedAtOnceNamingTheSetting(Consumer<BackendPoolConfig.Builder> setter, String message) {
        BackendPoolConfig.Builder b = BackendPoolConfig.builder();
        assertThatThrownBy(() -> setter.accept(b)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }

    @Test
    void combinationsAreCheckedAtBuild() {
        assertThatThrownBy(() -> BackendPoolConfig.builder().maxConnections(8).minIdle(9).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("minIdle (9) must be <= maxConnections (8)");
        assertThatThrownBy(() -> BackendPoolConfig.builder().maxConnections(8).maxIdle(12).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxIdle (12) must be <= maxConnections (8)");
        assertThatThrownBy(() -> BackendPoolConfig.builder().maxIdle(2).minIdle(3).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("minIdle (3) must be <= maxIdle (2)");
    }

    @Test
    void nullsAreRejectedNamingTheSetting() {
        assertThatThrownBy(() -> BackendPoolConfig.builder().reusePolicy(null))
                .isInstanceOf(NullPointerException.class).hasMessage("reusePolicy");
        assertThatThrownBy(() -> BackendPoolConfig.builder().idleTimeout(null))
                .isInstanceOf(NullPointerException.class).hasMessage("idleTimeout");
    }

    @Test
    void defaultsAreTheDocumentedConstants() {
        BackendPoolConfig c = BackendPoolConfig.defaults();
        assertThat(c.maxConnections()).isEqualTo(64);
        assertThat(c.maxIdle()).isEqualTo(-1);
        assertThat(c.minIdle()).isZero();
        assertThat(c.purgeDelay()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.validateAfterIdle()).isEqualTo(Duration.ofMillis(5));
        assertThat(c.maxLifetime()).isEqualTo(Duration.ofMinutes(30));
        assertThat(c.maxUses()).isEqualTo(-1);
        assertThat(c.acquireTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.responseTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.reusePolicy()).isSameAs(ReusePolicy.SAFE);
        assertThat(c.retries()).isEqualTo(3);
        assertThat(c.idempotencyKeyReplayable()).isFalse();
        assertThat(c.decompressGzip()).isTrue();
        assertThat(c.maxResponseHeadSize()).isEqualTo(65536);
        assertThat(c.leakDetectionThreshold()).isZero();
        assertThat(c.listener()).isSameAs(PoolListener.NONE);
        assertThat(c.purgeScheduler()).isSameAs(PurgeScheduler.shared());
        assertThat(c.name()).isNull();
    }

    @Test
    void toBuilderDerivesAVariantAndLeavesTheOriginal() {
        BackendPoolConfig a = BackendPoolConfig.builder().maxConnections(8).build();
        BackendPoolConfig b = a.toBuilder().maxConnections(16).build();
        assertThat(a.maxConnections()).isEqualTo(8);
        assertThat(b.maxConnections()).isEqualTo(16);
        assertThat(b.toString()).contains("maxConnections=16");
    }
}
