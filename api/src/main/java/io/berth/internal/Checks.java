package io.berth.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * Argument checks whose messages name the setting, the rule and the value. Internal: exported only to
 * Berth's own modules, which check what users hand to a running pool with the same words.
 */
public final class Checks {
    private Checks() {
    }

    /**
     * @param server the server the weight is for (named in the message)
     * @param weight a weight
     * @param max the largest weight allowed
     * @return the weight
     * @throws IllegalArgumentException unless 0 <= weight <= max
     */
    public static int weight(Object server, int weight, int max) {
        if (weight < 0 || weight > max) {
            throw new IllegalArgumentException("weight of " + server + " must be 0.." + max + " but was " + weight);
        }
        return weight;
    }

    public static Duration positive(String setting, Duration d) {
        Objects.requireNonNull(d, setting);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(setting + " must be positive but was " + d);
        }
        return d;
    }

    public static Duration positiveOrZero(String setting, Duration d, String zeroMeans) {
        Objects.requireNonNull(d, setting);
        if (d.isNegative()) {
            throw new IllegalArgumentException(setting + " must be positive, or zero for " + zeroMeans + ", but was " + d);
        }
        return d;
    }

    public static int atLeast(String setting, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(setting + " must be >= " + min + " but was " + value);
        }
        return value;
    }

    public static int unlimitedOrAtLeast(String setting, int value, int min) {
        if (value != -1 && value < min) {
            throw new IllegalArgumentException(setting + " must be -1 or >= " + min + " but was " + value);
        }
        return value;
    }
}
