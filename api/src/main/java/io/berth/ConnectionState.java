package io.berth;

/** The state of a connection in a {@link ConnectionStats} row. */
public enum ConnectionState {
    /** In the pool's shared idle set, available to any caller the reuse policy allows. */
    IDLE,
    /** Idle but held by a {@link Session}, available only to it. */
    SESSION_IDLE,
    /** Carrying an exchange. */
    IN_USE,
    /** Closed; the row's {@link ConnectionStats#closeReason()} says why. */
    CLOSED
}
