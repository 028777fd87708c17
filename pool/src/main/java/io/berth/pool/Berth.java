package io.berth.pool;

/** Placeholder; the factory arrives with the pool engine. */
final class Berth {
    private Berth() {
    }
}
