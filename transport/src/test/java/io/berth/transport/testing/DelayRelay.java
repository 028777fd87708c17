package io.berth.transport.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A TCP relay on 127.0.0.1 that delays every chunk by a fixed time in each direction, like a WAN
 * link: the portable stand-in for netem (not available in this kernel) or toxiproxy. Each accepted
 * connection is relayed to {@code 127.0.0.1:targetPort}; an end of stream on one side is passed on
 * as a half-close after the delayed bytes. Thread-safe; close it to stop.
 */
public final class DelayRelay implements AutoCloseable {
    private static final byte[] EOF = new byte[0];

    private final RawServer server;

    private DelayRelay(int targetPort, Duration delay, Supplier<Consumer<byte[]>> downTap) throws IOException {
        this.server = RawServer.start(client -> {
            try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort)) {
                upstream.setTcpNoDelay(true);
                Thread up = pump(client, upstream, delay, "relay-up", null);
                Thread down = pump(upstream, client, delay, "relay-down", downTap == null ? null : downTap.get());
                up.join();
                down.join();
            } finally {
                client.close();
            }
        });
    }

    /** @return a started relay to {@code targetPort} adding {@code delay} each way */
    public static DelayRelay start(int targetPort, Duration delay) throws IOException {
        return new DelayRelay(targetPort, delay, null);
    }

    /**
     * @param downTap makes, for each relayed connection, a consumer of the bytes the target sends, in
     *     order, called on the relay's reader thread before the bytes are passed on
     * @return a started relay to {@code targetPort} adding {@code delay} each way
     */
    public static DelayRelay start(int targetPort, Duration delay, Supplier<Consumer<byte[]>> downTap)
            throws IOException {
        return new DelayRelay(targetPort, delay, downTap);
    }

    /** @return the relay's port on 127.0.0.1 */
    public int port() {
        return server.port();
    }

    private static Thread pump(Socket from, Socket to, Duration delay, String name, Consumer<byte[]> tap) {
        BlockingQueue<Object[]> queue = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                for (int n; (n = in.read(buf)) >= 0; ) {
                    byte[] bytes = java.util.Arrays.copyOf(buf, n);
                    if (tap != null) {
                        tap.accept(bytes);
                    }
                    queue.add(new Object[] {System.nanoTime(), bytes});
                }
            } catch (IOException e) {
                // the connection went away
            }
            queue.add(new Object[] {System.nanoTime(), EOF});
        }, name + "-read");
        Thread writer = new Thread(() -> {
            try {
                OutputStream out = to.getOutputStream();
                for (;;) {
                    Object[] item = queue.take();
                    long due = (long) item[0] + delay.toNanos();
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    byte[] bytes = (byte[]) item[1];
                    if (bytes == EOF) {
                        to.shutdownOutput();
                        return;
                    }
                    out.write(bytes);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // closing
            }
        }, name + "-write");
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
        return writer;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
