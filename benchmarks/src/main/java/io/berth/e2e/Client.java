package io.berth.e2e;

import java.io.IOException;

/**
 * One client instance under test, behind the three operations the benchmarks need. Every
 * implementation reads each body fully in its library's usual way (into a {@code byte[]}, except
 * the floor, which reads into a reused buffer), checks it with {@link Target#check}, and releases
 * the connection to its pool.
 */
interface Client extends AutoCloseable {
    /**
     * Sends {@code GET} {@link Target#HOT_PATH}, reads and checks the response: the closed loop's
     * request. Thread-safe except for the floor, whose clients are one per caller.
     *
     * @throws Exception if the exchange failed or the response was not the expected one
     */
    void get() throws Exception;

    /**
     * Sends {@code GET} {@link Target#COLD_PATH}, reads and checks the response.
     *
     * @return its {@code X-TLS} header: protocol, cipher suite, and {@code r} if the session was
     *     resumed, {@code .} if not
     * @throws Exception if the exchange failed or the response was not the expected one
     */
    String getTls() throws Exception;

    /**
     * Sends {@code GET} {@link Target#HOLD_PATH} and returns once the response head has arrived,
     * leaving the 1 MiB body unread so the connection stays busy: the next request must use another
     * one.
     *
     * @return the busy response; closing it reads and checks the rest (except the floor's, which
     *     just closes its socket) and releases the connection
     * @throws Exception if the exchange failed
     */
    Held hold() throws Exception;

    /** Closes the client and its pool (for a client over shared state, leaves that open). */
    @Override
    void close() throws IOException;

    /** A response whose connection is still busy. */
    interface Held extends AutoCloseable {
        /** @return the {@code X-TLS} header of the response */
        String tls();

        @Override
        void close() throws IOException;
    }
}
