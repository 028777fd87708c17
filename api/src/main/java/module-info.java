/**
 * Berth's public API: pools, their settings, reuse policies, statistics and the connector SPI.
 * It has no dependencies beyond {@code java.base}.
 */
module io.berth {
    exports io.berth;
    exports io.berth.spi;
}
