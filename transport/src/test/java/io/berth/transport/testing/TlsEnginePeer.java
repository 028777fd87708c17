package io.berth.transport.testing;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;

/**
 * The server end of a TLS connection over a blocking socket, driven through an {@link SSLEngine} so
 * that a test can tell what the client ended with: a TLS close_notify, a bare TCP end of stream, or a
 * reset. (A JDK {@code SSLSocket} reports both a close_notify and a bare end of stream as -1.)
 *
 * <p>Deliberately simple: blocking reads, one record at a time. Not thread-safe.
 */
public final class TlsEnginePeer {
    /** How a client's side of the connection ended. */
    public enum End {
        /** A TLS close_notify arrived. */
        CLOSE_NOTIFY,
        /** The TCP stream ended (FIN) without a close_notify. */
        EOF,
        /** The connection was reset. */
        RESET
    }

    private final SSLEngine engine;
    private final InputStream in;
    private final OutputStream out;
    private final ByteBuffer netIn;
    private final ByteBuffer netOut;
    private final ByteBuffer app;

    /** Performs the server side of the handshake on {@code raw}. */
    public TlsEnginePeer(Socket raw, SSLContext context) throws IOException {
        this.engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        this.in = raw.getInputStream();
        this.out = raw.getOutputStream();
        int size = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(size).limit(0);
        this.netOut = ByteBuffer.allocate(size);
        this.app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        engine.beginHandshake();
        SSLEngineResult.HandshakeStatus hs = engine.getHandshakeStatus();
        while (hs != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                && hs != SSLEngineResult.HandshakeStatus.FINISHED) {
            switch (hs) {
                case NEED_WRAP -> hs = wrap(ByteBuffer.allocate(0));
                case NEED_UNWRAP -> {
                    SSLEngineResult r = unwrap();
                    if (r == null) {
                        throw new EOFException("the client closed the connection during the handshake");
                    }
                    hs = r.getHandshakeStatus();
                }
                case NEED_TASK -> {
                    Runnable t;
                    while ((t = engine.getDelegatedTask()) != null) {
                        t.run();
                    }
                    hs = engine.getHandshakeStatus();
                }
                default -> throw new IllegalStateException(hs.toString());
            }
        }
    }

    /** Writes application bytes (one or more records). */
    public void write(byte[] bytes) throws IOException {
        ByteBuffer src = ByteBuffer.wrap(bytes);
        while (src.hasRemaining()) {
            wrap(src);
        }
    }

    /** Sends a TLS close_notify, and nothing else: the TCP stream stays open. */
    public void closeNotify() throws IOException {
        engine.closeOutbound();
        while (!engine.isOutboundDone()) {
            wrap(ByteBuffer.allocate(0));
        }
    }

    /**
     * Reads application bytes until {@code n} arrived (post-handshake messages are consumed).
     *
     * @return how the stream ended instead, or {@code null} if {@code n} bytes arrived
     */
    public End read(int n) throws IOException {
        int got = 0;
        while (got < n) {
            app.clear();
            SSLEngineResult r;
            try {
                r = unwrap();
            } catch (java.net.SocketException e) {
                return End.RESET;
            }
            if (r == null) {
                return End.EOF;
            }
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                return End.CLOSE_NOTIFY;
            }
            got += r.bytesProduced();
        }
        return null;
    }

    /** Reads until the client's side ends, ignoring application bytes. */
    public End awaitEnd() throws IOException {
        while (true) {
            End end = read(Integer.MAX_VALUE);
            if (end != null) {
                return end;
            }
        }
    }

    private SSLEngineResult.HandshakeStatus wrap(ByteBuffer src) throws IOException {
        netOut.clear();
        SSLEngineResult r = engine.wrap(src, netOut);
        out.write(netOut.array(), 0, netOut.position());
        out.flush();
        return r.getHandshakeStatus();
    }

    /** @return the result of unwrapping one record, or {@code null} at a bare end of stream */
    private SSLEngineResult unwrap() throws IOException {
        while (true) {
            SSLEngineResult r = engine.unwrap(netIn, app);
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                Runnable t;
                while ((t = engine.getDelegatedTask()) != null) {
                    t.run();
                }
            }
            if (r.getStatus() != SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                return r;
            }
            netIn.compact();
            int n = in.read(netIn.array(), netIn.position(), netIn.remaining());
            if (n < 0) {
                netIn.flip();
                return null;
            }
            netIn.position(netIn.position() + n).flip();
        }
    }
}
