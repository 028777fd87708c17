package io.berth;

/**
 * The connection ended before the response body did: fewer bytes than its {@code Content-Length},
 * or a chunked body without its last chunk. The body read so far is not a complete response.
 */
public final class TruncatedBodyException extends HttpProtocolException {
    private static final long serialVersionUID = 1L;

    /** @param message how much was expected and how much arrived */
    public TruncatedBodyException(String message) {
        super(message);
    }
}
