package io.berth.transport;

import io.berth.Server;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A plain TCP connection ({@code http} backends): reads go straight into the caller's buffer and
 * writes straight from it, so it holds no pooled buffer at all. See {@link NioConnection}.
 */
final class PlainConnection extends NioConnection {
    /** One byte is enough to tell an idle connection's stray data from nothing. */
    private final ByteBuffer probe = ByteBuffer.allocate(1);
    private final String description;

    PlainConnection(Server server, SocketChannel channel, NioConnector connector) {
        super(server, channel, connector);
        this.description = server + " plain";
    }

    @Override
    int doRead(ByteBuffer dst, long timeoutNanos) throws IOException {
        return channelRead(dst);
    }

    @Override
    void doWrite(ByteBuffer src, long timeoutNanos) throws IOException {
        writeFully(src, timeoutNanos);
    }

    @Override
    Liveness doLiveness() throws IOException {
        int n = channel.read(probe.clear());
        return n < 0 ? Liveness.CLOSED_BY_PEER : n == 0 ? Liveness.ALIVE : Liveness.UNEXPECTED_DATA;
    }

    @Override
    Liveness doBufferedLiveness() {
        return Liveness.ALIVE; // a plain connection buffers nothing of its own
    }

    @Override
    boolean writeCloseNotify() {
        return true; // nothing to say before the FIN
    }

    @Override
    void releaseReadBuffers(boolean onlyEmpty) {
    }

    @Override
    void releaseWriteBuffers(boolean onlyEmpty) {
    }

    @Override
    public String describe() {
        return description;
    }
}
