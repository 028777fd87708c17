package io.berth.pool.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.berth.BackendPoolConfig;
import io.berth.TlsConfig;
import io.berth.pool.http.BerthPools;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.RawServer;
import io.berth.transport.testing.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLSocket;
import okhttp3.OkHttpClient;

/**
 * What the OkHttp adapter tests share: a TLS test server on 127.0.0.1 trusted through Berth's pools,
 * one base {@code OkHttpClient} (callers derive theirs with {@code newBuilder()}, which is cheap),
 * a server that stalls in the middle of a body, and the checks run after each test.
 */
final class OkHttpFixture implements AutoCloseable {
    /** Built once: a new client's TLS defaults cost a trust store load each. */
    static final OkHttpClient BASE = new OkHttpClient.Builder().build();

    HttpTestServer server;
    RawServer raw;
    BerthPools pools;

    HttpTestServer serve(HttpTestServer.Handler handler) throws IOException {
        server = HttpTestServer.start(TestPki.server().context(), handler);
        return server;
    }

    BerthPools pools(UnaryOperator<BackendPoolConfig.Builder> config) {
        pools = BerthPools.builder()
                .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.CA.certificate())).build())
                .defaults(config.apply(BackendPoolConfig.builder().name("okhttp-test")).build())
                .build();
        return pools;
    }

    /** @return {@code https://127.0.0.1:port/path} of the HTTP server, or else of the raw one */
    String url(String path) {
        int port = server != null ? server.port() : raw.port();
        return "https://127.0.0.1:" + port + path;
    }

    /** @return the only pool's stats */
    io.berth.PoolStats stats() {
        return pools.clients().iterator().next().pool().stats();
    }

    /**
     * Starts a raw TLS server that answers every request with a head promising 100,000 bytes, sends
     * {@code 0123456789}, then waits for the client to go away; {@code ended} counts down when it has.
     */
    RawServer stallingBody(CountDownLatch ended) throws IOException {
        raw = RawServer.start(s -> stall(s, ended));
        return raw;
    }

    private static void stall(Socket s, CountDownLatch ended) throws IOException {
        SSLSocket tls = RawServer.tls(s, TestPki.server().context());
        try {
            InputStream in = tls.getInputStream();
            RawServer.readHead(in);
            OutputStream out = tls.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n0123456789"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (in.read() >= 0) {
                // wait for the client to go away
            }
        } catch (IOException e) {
            // reset by the client: what a cancel does
        } finally {
            ended.countDown();
            tls.close();
        }
    }

    /** Closes the pools and servers, then checks that no Berth thread is left. */
    @Override
    public void close() throws IOException {
        if (pools != null) {
            pools.close();
        }
        if (server != null) {
            server.close();
            assertThat(server.failures()).isEmpty();
        }
        if (raw != null) {
            raw.close();
        }
        await("no berth- thread left").atMost(Duration.ofSeconds(5)).until(() -> Thread.getAllStackTraces().keySet()
                .stream().noneMatch(t -> t.getName().startsWith("berth-")));
    }

    /** @return the time since {@code startNanos} ({@link System#nanoTime()}) */
    static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    static boolean ended(CountDownLatch latch) throws InterruptedException {
        return latch.await(5, TimeUnit.SECONDS);
    }
}
