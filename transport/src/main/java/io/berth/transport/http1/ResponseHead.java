package io.berth.transport.http1;

import java.util.Objects;

/**
 * The head of an HTTP/1.x response: the status line and the header fields.
 *
 * <p>Immutable and thread-safe.
 */
public final class ResponseHead {
    /** The HTTP versions a response may carry. */
    public enum Version {
        /** {@code HTTP/1.0}: connections persist only with {@code Connection: keep-alive}. */
        HTTP_1_0("HTTP/1.0"),
        /** {@code HTTP/1.1}: connections persist unless {@code Connection: close}. */
        HTTP_1_1("HTTP/1.1"),
        /** {@code HTTP/2}: a response carried by a stream of an HTTP/2 connection (never parsed here). */
        HTTP_2("HTTP/2");

        private final String text;

        Version(String text) {
            this.text = text;
        }

        /** @return the version as written on the wire, e.g. {@code HTTP/1.1} */
        @Override
        public String toString() {
            return text;
        }
    }

    private final Version version;
    private final int statusCode;
    private final String reasonPhrase;
    private final HeaderFields headers;

    private ResponseHead(Version version, int statusCode, String reasonPhrase, HeaderFields headers) {
        this.version = version;
        this.statusCode = statusCode;
        this.reasonPhrase = reasonPhrase;
        this.headers = headers;
    }

    /**
     * Returns a response head. The parser makes these; this factory is for tests and fakes.
     *
     * @param version the HTTP version
     * @param statusCode 100 to 599
     * @param reasonPhrase the reason phrase, possibly empty
     * @param headers the header fields
     * @return the head
     * @throws IllegalArgumentException if the status code is out of range
     * @throws NullPointerException if an argument is null
     */
    public static ResponseHead of(Version version, int statusCode, String reasonPhrase, HeaderFields headers) {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(reasonPhrase, "reasonPhrase");
        Objects.requireNonNull(headers, "headers");
        if (statusCode < 100 || statusCode > 599) {
            throw new IllegalArgumentException("status code must be 100..599 but was " + statusCode);
        }
        return new ResponseHead(version, statusCode, reasonPhrase, headers);
    }

    /** Parser's constructor: the arguments are already valid. */
    static ResponseHead parsed(Version version, int statusCode, String reasonPhrase, HeaderFields headers) {
        return new ResponseHead(version, statusCode, reasonPhrase, headers);
    }

    /** @return the HTTP version of the status line */
    public Version version() {
        return version;
    }

    /** @return the status code, 100 to 599 */
    public int statusCode() {
        return statusCode;
    }

    /** @return the reason phrase, possibly empty (clients must not rely on it) */
    public String reasonPhrase() {
        return reasonPhrase;
    }

    /** @return the header fields, in the order received */
    public HeaderFields headers() {
        return headers;
    }

    /** @return whether this is an interim (1xx) response */
    public boolean isInformational() {
        return statusCode < 200;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResponseHead h && h.version == version && h.statusCode == statusCode
                && h.reasonPhrase.equals(reasonPhrase) && h.headers.equals(headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, statusCode, reasonPhrase, headers);
    }

    /** @return the status line and the header fields, one per line */
    @Override
    public String toString() {
        return version + " " + statusCode + (reasonPhrase.isEmpty() ? "" : " " + reasonPhrase) + "\n" + headers;
    }
}
