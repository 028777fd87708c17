package io.berth.pool.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.pool.http.BerthPools;
import org.junit.jupiter.api.Test;

/**
 * The OkHttp the adapter finds at run time. The build runs the OkHttp tests twice, with OkHttp 5
 * and with 4.12 ({@code berth.test.okhttp} says which): this proves each run had the version it
 * claims, so that neither passes vacuously on the other's.
 */
class OkHttpVersionTest {
    @Test
    void theRunHasTheOkHttpItClaims() {
        String expected = System.getProperty("berth.test.okhttp");
        assumeTrue(expected != null, "run outside the build: no version claimed");
        assertThat(OkHttpVersion.FOUND).isEqualTo(expected);
        assertThat(OkHttpVersion.IS_5).isEqualTo(expected.startsWith("5."));
    }

    @Test
    void onOkHttp4ThePlainInterceptorIsRefusedAtCreationNamingBothVersions() {
        assumeFalse(OkHttpVersion.IS_5, "OkHttp 5 on the class path");
        try (BerthPools pools = BerthPools.withDefaults()) {
            assertThatThrownBy(() -> BerthInterceptor.create(pools))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("needs OkHttp 5.0.0 or later")
                    .hasMessageContaining("found OkHttp " + OkHttpVersion.FOUND)
                    .hasMessageContaining("BerthCallFactory.create(client, pools)");
        }
    }

    @Test
    void versionsCompare() {
        assertThat(OkHttpVersion.atLeast("4.12.0", 4, 12)).isTrue();
        assertThat(OkHttpVersion.atLeast("5.5.1", 4, 12)).isTrue();
        assertThat(OkHttpVersion.atLeast("4.9.3", 4, 12)).isFalse();
        assertThat(OkHttpVersion.atLeast("3.x or older (no okhttp3.OkHttp.VERSION)", 4, 12)).isFalse();
    }
}
