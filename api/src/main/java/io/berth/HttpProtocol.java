package io.berth;

/**
 * An HTTP version a backend may be spoken to in, chosen per backend with
 * {@link Backend.Builder#protocols}: over TLS the client offers each through ALPN (RFC 7301) and the
 * server picks one per connection; over plain TCP exactly one is configured, since cleartext HTTP/2
 * works by prior knowledge only (Berth never sends {@code Upgrade: h2c}, which RFC 9113 deprecates).
 */
public enum HttpProtocol {
    /** HTTP/1.1 (RFC 9112): one exchange at a time per connection; ALPN id {@code http/1.1}. */
    HTTP_1_1("http/1.1"),
    /**
     * HTTP/2 (RFC 9113): many exchanges at once per connection, up to the server's
     * {@code SETTINGS_MAX_CONCURRENT_STREAMS}; ALPN id {@code h2}.
     */
    HTTP_2("h2");

    private final String alpnId;

    HttpProtocol(String alpnId) {
        this.alpnId = alpnId;
    }

    /** @return its ALPN protocol id: {@code http/1.1} or {@code h2} */
    public String alpnId() {
        return alpnId;
    }
}
