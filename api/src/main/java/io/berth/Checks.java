package io.berth;

import java.time.Duration;
import java.util.Objects;

/** Argument checks whose messages name the setting, the rule and the value. */
final class Checks {
    private Checks() {
    }

    static Duration positive(String setting, Duration d) {
        Objects.requireNonNull(d, setting);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(setting + " must be positive but was " + d);
        }
        return d;
    }

    static Duration positiveOrZero(String setting, Duration d, String zeroMeans) {
        Objects.requireNonNull(d, setting);
        if (d.isNegative()) {
            throw new IllegalArgumentException(setting + " must be positive, or zero for " + zeroMeans + ", but was " + d);
        }
        return d;
    }

    static int atLeast(String setting, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(setting + " must be >= " + min + " but was " + value);
        }
        return value;
    }

    static int unlimitedOrAtLeast(String setting, int value, int min) {
        if (value != -1 && value < min) {
            throw new IllegalArgumentException(setting + " must be -1 or >= " + min + " but was " + value);
        }
        return value;
    }
}
