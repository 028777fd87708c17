/**
 * Berth's public API: pools, their settings, reuse policies, statistics and the connector SPI.
 * It has no dependencies beyond {@code java.base}.
 */
@SuppressWarnings("module") // Berth's other modules are compiled after this one
module io.berth {
    exports io.berth;
    exports io.berth.spi;
    exports io.berth.internal to io.berth.transport, io.berth.pool;
}
