package io.berth;

import java.util.Locale;

/** The four built-in policies of {@link ReusePolicy}. */
enum BuiltinReusePolicy implements ReusePolicy {
    NEVER {
        @Override
        public boolean mayCarry(boolean replayable, ConnectionInfo connection) {
            return false;
        }

        @Override
        public boolean sharesIdleConnections() {
            return false;
        }
    },
    SAFE {
        @Override
        public boolean mayCarry(boolean replayable, ConnectionInfo connection) {
            return replayable || connection.multiplexed();
        }
    },
    AGGRESSIVE {
        @Override
        public boolean mayCarry(boolean replayable, ConnectionInfo connection) {
            return replayable || connection.proven() || connection.multiplexed();
        }
    },
    ALWAYS {
        @Override
        public boolean mayCarry(boolean replayable, ConnectionInfo connection) {
            return true;
        }
    };

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
