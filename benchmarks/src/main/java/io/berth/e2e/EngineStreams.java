package io.berth.e2e;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The JDK's other TLS path, as bare as the floor's {@link javax.net.ssl.SSLSocket}: an
 * {@link SSLEngine} over a {@link SocketChannel} in blocking mode (TCP_NODELAY), seen as a pair of
 * streams. One read from the channel per call that finds no decrypted bytes left, one {@code wrap}
 * and one write per {@code write} call; the engine's calls take arrays made once, so the streams
 * allocate nothing themselves. It is the path Berth's transport takes, with nothing of Berth's
 * around it: the {@code floor-nio} client over it, against the floor, prices the JDK's channel and
 * engine path against its socket path, and Berth against {@code floor-nio} prices Berth's own layers.
 *
 * <p>Not thread-safe: one caller at a time, as the floor's socket.
 */
final class EngineStreams implements Closeable {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    /** Ciphertext received, not yet decrypted; read mode. */
    private final ByteBuffer netIn;
    /** Ciphertext to send; read mode. */
    private final ByteBuffer netOut;
    /** Plaintext decrypted, not yet delivered; read mode. */
    private final ByteBuffer appIn;
    private final ByteBuffer[] appInArray;
    private final ByteBuffer[] srcArray = new ByteBuffer[1];
    /** The last array written and a buffer over it, so that a repeated request wraps no new buffer. */
    private byte[] lastSrc;
    private ByteBuffer lastSrcBuffer;
    final InputStream in = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return EngineStreams.this.read(b, off, len);
        }
    };
    final OutputStream out = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            EngineStreams.this.write(b, off, len);
        }
    };

    private EngineStreams(SocketChannel channel, SSLEngine engine) {
        this.channel = channel;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet).limit(0);
        this.netOut = ByteBuffer.allocate(packet).limit(0);
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).limit(0);
        this.appInArray = new ByteBuffer[] {appIn};
    }

    /**
     * Connects and handshakes as the floor's socket does: TLS 1.3, endpoint identification
     * {@code HTTPS} against the target's host, which is also the SNI name.
     */
    static EngineStreams open(SSLContext context, Target target) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.connect(new InetSocketAddress(target.host(), target.port()));
            SSLEngine engine = context.createSSLEngine(target.host(), target.port());
            engine.setUseClientMode(true);
            SSLParameters p = engine.getSSLParameters();
            p.setProtocols(new String[] {Tls.PROTOCOL});
            p.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(p);
            EngineStreams s = new EngineStreams(ch, engine);
            s.handshake();
            return s;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private void handshake() throws IOException {
        engine.beginHandshake();
        HandshakeStatus hs = engine.getHandshakeStatus();
        while (hs != HandshakeStatus.FINISHED && hs != HandshakeStatus.NOT_HANDSHAKING) {
            switch (hs) {
                case NEED_WRAP -> hs = wrapAndSend(EMPTY).getHandshakeStatus();
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    SSLEngineResult r = unwrap();
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                        fill();
                    } else if (r.getStatus() != SSLEngineResult.Status.OK) {
                        throw new SSLException("handshake: " + r);
                    }
                    hs = r.getHandshakeStatus();
                }
                case NEED_TASK -> {
                    runTasks();
                    hs = engine.getHandshakeStatus();
                }
                default -> throw new SSLException("unexpected handshake status " + hs);
            }
        }
    }

    /** Runs the engine's delegated tasks on this thread. */
    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private int read(byte[] b, int off, int len) throws IOException {
        while (!appIn.hasRemaining()) {
            if (netIn.hasRemaining()) {
                SSLEngineResult r = unwrap();
                switch (r.getStatus()) {
                    case OK -> {
                        if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                            runTasks();
                        }
                        if (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                            wrapAndSend(EMPTY); // a KeyUpdate's answer
                        }
                        continue; // a session ticket decrypts to nothing: the next record
                    }
                    case CLOSED -> {
                        return -1;
                    }
                    case BUFFER_UNDERFLOW -> {
                        // a partial record: read more
                    }
                    default -> throw new SSLException("unwrap: " + r);
                }
            }
            fill();
        }
        int n = Math.min(len, appIn.remaining());
        appIn.get(b, off, n);
        return n;
    }

    /** Decrypts one record of {@code netIn} into {@code appIn}. */
    private SSLEngineResult unwrap() throws SSLException {
        appIn.compact();
        try {
            return engine.unwrap(netIn, appInArray, 0, 1);
        } finally {
            appIn.flip();
        }
    }

    /** One blocking read into {@code netIn}. */
    private void fill() throws IOException {
        netIn.compact();
        try {
            if (channel.read(netIn) < 0) {
                throw new EOFException("connection closed by the server");
            }
        } finally {
            netIn.flip();
        }
    }

    private void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer src;
        if (b == lastSrc) {
            src = lastSrcBuffer.limit(off + len).position(off);
        } else {
            src = ByteBuffer.wrap(b, off, len);
            lastSrc = b;
            lastSrcBuffer = src;
        }
        while (src.hasRemaining()) {
            wrapAndSend(src);
        }
    }

    private SSLEngineResult wrapAndSend(ByteBuffer src) throws IOException {
        netOut.clear();
        srcArray[0] = src;
        SSLEngineResult r;
        try {
            r = engine.wrap(srcArray, 0, 1, netOut);
        } finally {
            srcArray[0] = null;
            netOut.flip();
        }
        if (r.getStatus() != SSLEngineResult.Status.OK) {
            throw new SSLException("wrap: " + r);
        }
        while (netOut.hasRemaining()) {
            channel.write(netOut);
        }
        return r;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
