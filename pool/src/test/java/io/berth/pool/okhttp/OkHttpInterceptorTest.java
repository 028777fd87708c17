package io.berth.pool.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.CloseReason;
import io.berth.RequestNotRetriedException;
import io.berth.ResponseTimeoutException;
import io.berth.ReusePolicy;
import io.berth.TlsConfig;
import io.berth.TruncatedBodyException;
import io.berth.pool.http.BerthPools;
import io.berth.transport.testing.HttpTestServer.After;
import io.berth.transport.testing.HttpTestServer.End;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.Hygiene;
import io.berth.transport.testing.RawServer;
import io.berth.transport.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import okhttp3.Call;
import okhttp3.CertificatePinner;
import okhttp3.Cookie;
import okhttp3.CookieJar;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSink;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@link BerthInterceptor} in an application's {@code OkHttpClient}, over real TLS to 127.0.0.1. */
@ExtendWith(Hygiene.class)
@Timeout(30)
class OkHttpInterceptorTest {
    private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

    private final OkHttpFixture fx = new OkHttpFixture();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @BeforeEach
    void needsOkHttp5() {
        // BerthInterceptor.create needs OkHttp 5; on 4.12 its refusal is OkHttpVersionTest's, and the
        // factory's tests cover the interceptor as BerthCallFactory runs it.
        assumeTrue(OkHttpVersion.IS_5, "BerthInterceptor.create needs OkHttp 5; found " + OkHttpVersion.FOUND);
    }

    @AfterEach
    void stop() throws Exception {
        timer.shutdownNow();
        assertThat(timer.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        fx.close();
    }

    private OkHttpClient client(UnaryOperator<OkHttpClient.Builder> config) {
        if (fx.pools == null) {
            fx.pools(b -> b);
        }
        return config.apply(OkHttpFixture.BASE.newBuilder()).addInterceptor(BerthInterceptor.create(fx.pools)).build();
    }

    private OkHttpClient client() {
        return client(b -> b);
    }

    private String get(OkHttpClient client, String path) throws IOException {
        try (Response r = client.newCall(new Request.Builder().url(fx.url(path)).build()).execute()) {
            return r.body().string();
        }
    }

    private String post(OkHttpClient client, String path, RequestBody body) throws IOException {
        try (Response r = client.newCall(new Request.Builder().url(fx.url(path)).post(body).build()).execute()) {
            return r.body().string();
        }
    }

    // ---- mapping

    @Test
    void theRequestAndTheResponseAreMapped() throws Exception {
        fx.serve(r -> Reply.status(201, "Created").body("{\"id\":7}").header("Content-Type", "application/json")
                .header("X-Reply", "a").header("X-Reply", "b"));
        OkHttpClient client = client();
        Request request = new Request.Builder().url(fx.url("/orders?id=7&q=a%20b")).header("X-Trace", "t1")
                .post(RequestBody.create("{\"a\":1}", JSON)).build();
        long before = System.currentTimeMillis();
        try (Response r = client.newCall(request).execute()) {
            long after = System.currentTimeMillis();
            assertThat(r.code()).isEqualTo(201);
            assertThat(r.message()).isEqualTo("Created");
            assertThat(r.protocol()).isEqualTo(Protocol.HTTP_1_1);
            assertThat(r.headers("X-Reply")).containsExactly("a", "b");
            assertThat(r.body().contentType()).hasToString("application/json");
            assertThat(r.body().contentLength()).isEqualTo(8);
            assertThat(r.request()).isSameAs(request);
            assertThat(r.sentRequestAtMillis()).isBetween(before, after);
            assertThat(r.receivedResponseAtMillis()).isBetween(r.sentRequestAtMillis(), after);
            assertThat(r.handshake()).isNull();
            assertThat(r.body().string()).isEqualTo("{\"id\":7}");
        }
        HttpTestServer.Request seen = fx.server.requests().get(0);
        assertThat(seen.method()).isEqualTo("POST");
        assertThat(seen.target()).isEqualTo("/orders?id=7&q=a%20b");
        assertThat(seen.bodyText()).isEqualTo("{\"a\":1}");
        assertThat(seen.header("Content-Type")).isEqualTo("application/json; charset=utf-8");
        assertThat(seen.header("Content-Length")).isEqualTo("7");
        assertThat(seen.header("Transfer-Encoding")).isNull();
        assertThat(seen.header("User-Agent")).startsWith("okhttp/5.");
        assertThat(seen.header("X-Trace")).isEqualTo("t1");
        assertThat(seen.header("Host")).isEqualTo("127.0.0.1:" + fx.server.port());
    }

    @Test
    void anHttp10ResponseIsReportedAsSuch() throws Exception {
        fx.serve(r -> Reply.ok("old").version("HTTP/1.0"));
        try (Response r = client().newCall(new Request.Builder().url(fx.url("/")).build()).execute()) {
            assertThat(r.protocol()).isEqualTo(Protocol.HTTP_1_0);
            assertThat(r.body().string()).isEqualTo("old");
        }
    }

    @Test
    void anUntrustedServerCertificateIsAnSslHandshakeException() throws Exception {
        fx.serve(r -> Reply.ok("never"));
        fx.pools = BerthPools.builder()
                .tls(TlsConfig.builder().trustCertificates(List.of(TestPki.OTHER_CA.certificate())).build()).build();
        assertThatThrownBy(() -> get(client(), "/")).isInstanceOf(SSLHandshakeException.class);
        assertThat(fx.server.requests()).isEmpty();
    }

    @Test
    void aBodyOfUnknownLengthIsStreamedChunked() throws Exception {
        fx.serve(r -> Reply.ok(r.header("Transfer-Encoding") + " " + r.body().length + " " + r.bodyText().hashCode()));
        byte[] part = "0123456789abcdef".repeat(1024).getBytes(StandardCharsets.US_ASCII); // 16 KiB
        RequestBody streamed = new RequestBody() {
            @Override
            public MediaType contentType() {
                return MediaType.get("application/octet-stream");
            }

            @Override
            public void writeTo(BufferedSink sink) throws IOException {
                for (int i = 0; i < 10; i++) {
                    sink.write(part);
                    sink.flush();
                }
            }
        };
        String expected = new String(part, StandardCharsets.US_ASCII).repeat(10);
        assertThat(post(client(), "/upload", streamed))
                .isEqualTo("chunked " + expected.length() + " " + expected.hashCode());
    }

    @Test
    void aHeadResponseHasAnEmptyBodyAndKeepsTheConnection() throws Exception {
        fx.serve(r -> Reply.ok(r.method().equals("HEAD") ? "" : "full"));
        OkHttpClient client = client();
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/")).head().build()).execute()) {
            assertThat(r.code()).isEqualTo(200);
            assertThat(r.body().contentLength()).isZero();
            assertThat(r.body().bytes()).isEmpty();
        }
        assertThat(get(client, "/")).isEqualTo("full");
        assertThat(fx.server.connections()).isEqualTo(1);
    }

    @Test
    void theApplicationsOtherInterceptorsStillRun() throws Exception {
        fx.serve(r -> Reply.ok("added=" + r.header("X-Added")));
        List<String> log = new CopyOnWriteArrayList<>();
        OkHttpClient client = client(b -> b
                .addInterceptor(chain -> chain.proceed(chain.request().newBuilder().header("X-Added", "yes").build()))
                .addInterceptor(chain -> {
                    log.add("--> " + chain.request().method() + " " + chain.request().url().encodedPath());
                    Response response = chain.proceed(chain.request());
                    log.add("<-- " + response.code() + " " + response.peekBody(1024).string());
                    return response;
                }));
        assertThat(get(client, "/one")).isEqualTo("added=yes");
        assertThat(get(client, "/two")).isEqualTo("added=yes");
        assertThat(log).containsExactly("--> GET /one", "<-- 200 added=yes", "--> GET /two", "<-- 200 added=yes");
        assertThat(fx.server.connections()).isEqualTo(1);
    }

    @Test
    void interceptorsAfterTheBerthOneNeverRun() throws Exception {
        fx.serve(r -> Reply.ok("ok"));
        fx.pools(b -> b);
        List<String> ran = new CopyOnWriteArrayList<>();
        OkHttpClient client = OkHttpFixture.BASE.newBuilder().addInterceptor(BerthInterceptor.create(fx.pools))
                .addInterceptor(chain -> {
                    ran.add("late");
                    return chain.proceed(chain.request());
                }).build();
        assertThat(get(client, "/")).isEqualTo("ok");
        assertThat(ran).as("documented: it must be last").isEmpty();
    }

    // ---- bodies

    @Test
    void aLargeBodyStreamsInPartsAndTheConnectionIsReused() throws Exception {
        byte[] big = new byte[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i % 251);
        }
        fx.serve(r -> r.target().equals("/chunked") ? Reply.ok("").body(big).chunked() : Reply.ok("").body(big));
        OkHttpClient client = client();
        for (String path : new String[] {"/fixed", "/chunked"}) {
            try (Response r = client.newCall(new Request.Builder().url(fx.url(path)).build()).execute()) {
                assertThat(r.body().contentLength()).isEqualTo(path.equals("/fixed") ? big.length : -1);
                BufferedSource source = r.body().source();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                Buffer part = new Buffer();
                int reads = 0;
                long n;
                while ((n = source.read(part, 7_000)) != -1) {
                    assertThat(n).isBetween(1L, 7_000L);
                    got.write(part.readByteArray());
                    reads++;
                }
                assertThat(reads).isGreaterThan(40);
                assertThat(got.toByteArray()).isEqualTo(big);
                assertThat(r.trailers().size()).isZero();
            }
        }
        assertThat(fx.server.connections()).isEqualTo(1);
        assertThat(fx.stats().inUse()).isZero();
    }

    @Test
    void aSmallBodyThatCameWithItsHeadHoldsNoConnectionEvenIfItsResponseIsNeverClosed() throws Exception {
        fx.serve(r -> Reply.ok("small " + r.exchange()));
        OkHttpClient client = client();
        List<Response> unclosed = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            unclosed.add(client.newCall(new Request.Builder().url(fx.url("/")).build()).execute());
            assertThat(fx.stats().inUse()).as("the connection went back before execute returned").isZero();
        }
        assertThat(fx.server.connections()).as("one connection carried all three").isEqualTo(1);
        for (int i = 0; i < 3; i++) {
            assertThat(unclosed.get(i).body().string()).isEqualTo("small " + i);
        }
    }

    @Test
    void closingABodyEarlyReleasesTheConnection() throws Exception {
        fx.serve(r -> Reply.ok("x".repeat(r.target().equals("/big") ? 1_000_000 : 1_000)));
        OkHttpClient client = client();
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/small")).build()).execute()) {
            assertThat(r.body().byteStream().read()).isEqualTo('x');
        }
        assertThat(fx.stats().inUse()).isZero();
        assertThat(get(client, "/")).hasSize(1_000);
        assertThat(fx.server.connections()).as("a small rest is drained: the connection stays").isEqualTo(1);

        Response big = client.newCall(new Request.Builder().url(fx.url("/big")).build()).execute();
        assertThat(fx.stats().inUse()).isEqualTo(1);
        InputStream in = big.body().byteStream();
        assertThat(in.readNBytes(10)).hasSize(10);
        big.close();
        assertThat(fx.stats().inUse()).as("released at close").isZero();
        assertThat(fx.stats().closed(CloseReason.NOT_REUSABLE)).as("too much left to drain").isEqualTo(1);
        assertThat(get(client, "/")).hasSize(1_000);
        assertThat(fx.server.connections()).isEqualTo(2);
    }

    @Test
    void aTruncatedBodyIsAnIOExceptionAndTheConnectionIsNotReused() throws Exception {
        fx.serve(r -> r.connection() == 0 ? Reply.ok("0123456789").sendOnly(44) : Reply.ok("ok"));
        OkHttpClient client = client();
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/")).build()).execute()) {
            BufferedSource source = r.body().source();
            assertThatThrownBy(() -> source.readByteArray()).isInstanceOf(TruncatedBodyException.class);
            assertThatThrownBy(() -> source.readByteArray()).as("never passed off as an end later")
                    .isInstanceOf(IOException.class).hasCauseInstanceOf(TruncatedBodyException.class);
        }
        assertThat(get(client, "/")).isEqualTo("ok");
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void gzipIsDecodedTransparentlyWithConsistentHeaders() throws Exception {
        fx.serve(r -> "gzip".equals(r.header("Accept-Encoding"))
                ? Reply.ok("").body(gzip("compressed hello")).header("Content-Encoding", "gzip")
                        .header("Content-Type", "text/plain")
                : Reply.ok("plain hello"));
        OkHttpClient client = client();
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/")).build()).execute()) {
            assertThat(r.header("Content-Encoding")).isNull();
            assertThat(r.header("Content-Length")).isNull();
            assertThat(r.body().contentLength()).isEqualTo(-1);
            assertThat(r.body().contentType()).hasToString("text/plain");
            assertThat(r.body().string()).isEqualTo("compressed hello");
        }
        // Asking for gzip yourself means decoding it yourself, as with OkHttp.
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/")).header("Accept-Encoding", "gzip")
                .build()).execute()) {
            assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
            assertThat(r.body().bytes()).isEqualTo(gzip("compressed hello"));
        }
        // A range of a gzip stream could not be decoded: Berth does not ask for gzip then.
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/")).header("Range", "bytes=0-3")
                .build()).execute()) {
            assertThat(r.body().string()).isEqualTo("plain hello");
        }
        assertThat(fx.server.connections()).isEqualTo(1);
    }

    private static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    // ---- replay rules

    @Test
    void underSafeEveryPostGetsANewConnectionAndGetsReuse() throws Exception {
        fx.serve(r -> Reply.ok(r.method() + " " + r.bodyText()));
        fx.pools(b -> b.reusePolicy(ReusePolicy.SAFE));
        OkHttpClient client = client();
        assertThat(get(client, "/")).isEqualTo("GET ");
        for (int i = 0; i < 3; i++) {
            assertThat(post(client, "/orders", RequestBody.create("order " + i, JSON))).isEqualTo("POST order " + i);
        }
        assertThat(get(client, "/")).isEqualTo("GET ");
        assertThat(fx.server.requests()).extracting(HttpTestServer.Request::connection).containsExactly(0, 1, 2, 3, 3);
    }

    @Test
    void aPostIsNeverSentTwiceWhenTheServerDropsTheConnection() throws Exception {
        fx.serve(r -> r.exchange() == 1 ? Reply.ok("").then(After.CLOSE_INSTEAD) : Reply.ok("ok"));
        fx.pools(b -> b.reusePolicy(ReusePolicy.ALWAYS));
        OkHttpClient client = client();
        get(client, "/");
        assertThatThrownBy(() -> post(client, "/pay", RequestBody.create("once", JSON)))
                .isInstanceOf(RequestNotRetriedException.class).hasMessageContaining("POST /pay");
        assertThat(fx.server.requests()).filteredOn(r -> r.method().equals("POST")).hasSize(1);
    }

    @Test
    void aOneShotBodyIsNeverRetriedButAReplayablePutIs() throws Exception {
        fx.serve(r -> r.exchange() == 1 ? Reply.ok("").then(After.CLOSE_INSTEAD) : Reply.ok("ok " + r.bodyText()));
        fx.pools(b -> b.reusePolicy(ReusePolicy.ALWAYS));
        OkHttpClient client = client();
        get(client, "/"); // connection 0, whose next exchange the server drops
        RequestBody oneShot = new RequestBody() {
            @Override
            public MediaType contentType() {
                return JSON;
            }

            @Override
            public boolean isOneShot() {
                return true;
            }

            @Override
            public void writeTo(BufferedSink sink) throws IOException {
                sink.writeUtf8("streamed once");
            }
        };
        assertThatThrownBy(() -> client.newCall(new Request.Builder().url(fx.url("/once")).put(oneShot).build())
                .execute()).isInstanceOf(RequestNotRetriedException.class);
        assertThat(fx.server.requests()).filteredOn(r -> r.target().equals("/once")).hasSize(1);

        get(client, "/"); // connection 1 now carries one exchange; its next is dropped again
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/twice"))
                .put(RequestBody.create("again", JSON)).build()).execute()) {
            assertThat(r.body().string()).isEqualTo("ok again");
        }
        assertThat(fx.server.requests()).filteredOn(r -> r.target().equals("/twice"))
                .extracting(HttpTestServer.Request::connection).containsExactly(1, 2);
    }

    @Test
    void aBodyThatBreaksItsOwnLengthIsAProtocolException() throws Exception {
        fx.serve(r -> Reply.ok("ok"));
        RequestBody liar = new RequestBody() {
            @Override
            public MediaType contentType() {
                return JSON;
            }

            @Override
            public long contentLength() {
                return 10;
            }

            @Override
            public void writeTo(BufferedSink sink) throws IOException {
                sink.writeUtf8("12345");
            }
        };
        assertThatThrownBy(() -> post(client(), "/", liar)).isInstanceOf(ProtocolException.class)
                .hasMessage("expected 10 bytes but received 5");
    }

    @Test
    void duplexBodiesAreRefused() throws Exception {
        fx.serve(r -> Reply.ok("ok"));
        RequestBody duplex = new RequestBody() {
            @Override
            public MediaType contentType() {
                return JSON;
            }

            @Override
            public boolean isDuplex() {
                return true;
            }

            @Override
            public void writeTo(BufferedSink sink) {
            }
        };
        assertThatThrownBy(() -> post(client(), "/", duplex)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("duplex");
        assertThat(fx.server.connections()).isZero();
    }

    // ---- timeouts

    @Test
    void theReadTimeoutIsASocketTimeoutWithinItsBound() throws Exception {
        fx.serve(r -> r.connection() == 0 ? Reply.ok("late").delay(Duration.ofSeconds(2)) : Reply.ok("ok"));
        OkHttpClient client = client(b -> b.readTimeout(Duration.ofMillis(300)));
        long start = System.nanoTime();
        assertThatThrownBy(() -> get(client, "/slow")).isInstanceOf(SocketTimeoutException.class)
                .isInstanceOf(ResponseTimeoutException.class).hasMessageContaining("300 ms");
        assertThat(OkHttpFixture.since(start)).isBetween(Duration.ofMillis(250), Duration.ofMillis(1800));
        assertThat(get(client, "/")).isEqualTo("ok");
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void theCallTimeoutCancelsTheExchangeWithinItsBound() throws Exception {
        fx.serve(r -> Reply.ok("late").delay(Duration.ofSeconds(2)));
        OkHttpClient client = client(b -> b.callTimeout(Duration.ofMillis(400)).readTimeout(Duration.ofSeconds(10)));
        long start = System.nanoTime();
        assertThatThrownBy(() -> get(client, "/slow")).isInstanceOf(InterruptedIOException.class).hasMessage("timeout");
        assertThat(OkHttpFixture.since(start)).isBetween(Duration.ofMillis(350), Duration.ofMillis(1800));
        assertThat(fx.stats().inUse()).isZero();
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void theCallTimeoutAlsoCoversReadingTheBody() throws Exception {
        CountDownLatch ended = new CountDownLatch(1);
        fx.stallingBody(ended);
        fx.pools(b -> b);
        OkHttpClient client = client(b -> b.callTimeout(Duration.ofMillis(500)).readTimeout(Duration.ofSeconds(10)));
        Call call = client.newCall(new Request.Builder().url(fx.url("/stall")).build());
        long start = System.nanoTime();
        try (Response r = call.execute()) {
            InputStream body = r.body().byteStream();
            assertThat(body.readNBytes(5)).hasSize(5);
            assertThatThrownBy(() -> body.readNBytes(1000)).isInstanceOf(InterruptedIOException.class)
                    .hasMessage("timeout");
        }
        assertThat(OkHttpFixture.since(start)).isBetween(Duration.ofMillis(450), Duration.ofMillis(2500));
        assertThat(call.isCanceled()).isTrue();
        assertThat(OkHttpFixture.ended(ended)).isTrue();
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    @Test
    void theCallTimeoutEndsWithTheBody() throws Exception {
        fx.serve(r -> r.target().equals("/old") ? Reply.status(302, "Found").header("Location", "/new")
                : Reply.ok("quick"));
        OkHttpClient client = client(b -> b.callTimeout(Duration.ofMillis(300)));
        Call call = client.newCall(new Request.Builder().url(fx.url("/old")).build());
        try (Response r = call.execute()) {
            assertThat(r.body().string()).isEqualTo("quick");
        }
        Thread.sleep(500);
        assertThat(call.isCanceled()).as("the timer stopped with the final body").isFalse();
    }

    @Test
    void theWriteTimeoutAbortsAStalledUpload() throws Exception {
        fx.raw = RawServer.start(s -> {
            SSLSocket tls = RawServer.tls(s, TestPki.server().context());
            RawServer.readHead(tls.getInputStream());
            Thread.sleep(30_000); // never reads the body; interrupted at close
        });
        fx.pools(b -> b);
        byte[] chunk = new byte[64 * 1024];
        RequestBody endless = new RequestBody() {
            @Override
            public MediaType contentType() {
                return MediaType.get("application/octet-stream");
            }

            @Override
            public void writeTo(BufferedSink sink) throws IOException {
                for (int i = 0; i < 2048; i++) { // 128 MiB, far beyond the socket buffers
                    sink.write(chunk);
                }
            }
        };
        OkHttpClient client = client(b -> b.writeTimeout(Duration.ofMillis(300)).readTimeout(Duration.ofSeconds(10)));
        long start = System.nanoTime();
        assertThatThrownBy(() -> post(client, "/upload", endless)).isInstanceOf(SocketTimeoutException.class)
                .hasMessageContaining("writeTimeout");
        assertThat(OkHttpFixture.since(start)).isLessThan(Duration.ofSeconds(5));
        assertThat(fx.stats().inUse()).isZero();
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    // ---- cancellation

    @Test
    void aCallCancelledBeforeItRunsFailsWithoutTouchingTheNetwork() throws Exception {
        fx.serve(r -> Reply.ok("ok"));
        Call call = client().newCall(new Request.Builder().url(fx.url("/")).build());
        call.cancel();
        assertThatThrownBy(call::execute).isInstanceOf(IOException.class).hasMessage("Canceled");
        assertThat(fx.server.connections()).isZero();
    }

    @Test
    void aCancelWhileTheHeadIsAwaitedAbortsTheExchangePromptly() throws Exception {
        fx.serve(r -> r.target().equals("/slow") ? Reply.ok("late").delay(Duration.ofSeconds(2)) : Reply.ok("ok"));
        OkHttpClient client = client();
        get(client, "/"); // a reused connection, so that a plain failure would be retried
        Call call = client.newCall(new Request.Builder().url(fx.url("/slow")).build());
        timer.schedule(call::cancel, 200, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        assertThatThrownBy(call::execute).isInstanceOf(IOException.class).hasMessage("Canceled");
        assertThat(OkHttpFixture.since(start)).isLessThan(Duration.ofMillis(1500));
        assertThat(fx.server.requests()).filteredOn(r -> r.target().equals("/slow")).hasSize(1);
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
        await().until(() -> fx.server.ends().size() == 1);
        assertThat(fx.server.ends()).containsEntry(0, End.CLIENT_RESET);
    }

    @Test
    void aCancelWhileTheBodyIsReadFailsTheReadAndDiscardsTheConnection() throws Exception {
        CountDownLatch ended = new CountDownLatch(1);
        fx.stallingBody(ended);
        fx.pools(b -> b);
        Call call = client().newCall(new Request.Builder().url(fx.url("/stall")).build());
        try (Response r = call.execute()) {
            InputStream body = r.body().byteStream();
            assertThat(new String(body.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("01234");
            timer.schedule(call::cancel, 200, TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            assertThatThrownBy(() -> body.readNBytes(1000)).isInstanceOf(IOException.class).hasMessage("Canceled");
            assertThat(OkHttpFixture.since(start)).isLessThan(Duration.ofMillis(2000));
        }
        assertThat(OkHttpFixture.ended(ended)).as("the server saw the connection go").isTrue();
        assertThat(fx.stats().total()).isZero();
        assertThat(fx.stats().closed(CloseReason.BROKEN)).isEqualTo(1);
    }

    // ---- follow-ups

    @Test
    void redirectsAreFollowedAsTheClientSays() throws Exception {
        fx.serve(r -> {
            switch (r.target()) {
                case "/old":
                    return Reply.status(302, "Found").header("Location", "/new").body("moved");
                case "/form":
                    return Reply.status(303, "See Other").header("Location", "/done");
                case "/keep":
                    return Reply.status(307, "Temporary Redirect").header("Location", "/kept");
                default:
                    return Reply.ok(r.method() + " " + r.target() + " " + r.bodyText() + " "
                            + r.header("Content-Type"));
            }
        });
        OkHttpClient client = client();
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/old")).build()).execute()) {
            assertThat(r.body().string()).isEqualTo("GET /new  null");
            assertThat(r.request().url().encodedPath()).isEqualTo("/new");
            assertThat(r.priorResponse()).isNotNull();
            assertThat(r.priorResponse().code()).isEqualTo(302);
            assertThat(r.priorResponse().request().url().encodedPath()).isEqualTo("/old");
        }
        assertThat(post(client, "/form", RequestBody.create("a=1", JSON))).isEqualTo("GET /done  null");
        assertThat(post(client, "/keep", RequestBody.create("a=1", JSON)))
                .isEqualTo("POST /kept a=1 application/json; charset=utf-8");
        OkHttpClient noRedirects = client(b -> b.followRedirects(false));
        try (Response r = noRedirects.newCall(new Request.Builder().url(fx.url("/old")).build()).execute()) {
            assertThat(r.code()).isEqualTo(302);
            assertThat(r.body().string()).isEqualTo("moved");
        }
        assertThat(fx.stats().inUse()).isZero();
    }

    @Test
    void tooManyRedirectsAreAProtocolException() throws Exception {
        fx.serve(r -> Reply.status(302, "Found").header("Location", "/again"));
        assertThatThrownBy(() -> get(client(), "/")).isInstanceOf(ProtocolException.class)
                .hasMessage("Too many follow-up requests: 21");
        assertThat(fx.server.requests()).hasSize(21);
        assertThat(fx.stats().inUse()).isZero();
    }

    @Test
    void cookiesGoThroughTheClientsCookieJar() throws Exception {
        fx.serve(r -> r.target().equals("/login") ? Reply.ok("in").header("Set-Cookie", "session=abc; Path=/")
                : Reply.ok("cookie=" + r.header("Cookie")));
        List<Cookie> jar = new CopyOnWriteArrayList<>();
        OkHttpClient client = client(b -> b.cookieJar(new CookieJar() {
            @Override
            public void saveFromResponse(HttpUrl url, List<Cookie> cookies) {
                jar.addAll(cookies);
            }

            @Override
            public List<Cookie> loadForRequest(HttpUrl url) {
                return new ArrayList<>(jar);
            }
        }));
        assertThat(get(client, "/me")).isEqualTo("cookie=null");
        assertThat(get(client, "/login")).isEqualTo("in");
        assertThat(jar).extracting(Cookie::name, Cookie::value).containsExactly(org.assertj.core.groups.Tuple.tuple(
                "session", "abc"));
        assertThat(get(client, "/me")).isEqualTo("cookie=session=abc");
    }

    @Test
    void aChallengeGoesToTheClientsAuthenticator() throws Exception {
        fx.serve(r -> r.header("Authorization") == null
                ? Reply.status(401, "Unauthorized").header("WWW-Authenticate", "Basic realm=\"x\"")
                : Reply.ok("hello " + r.header("Authorization")));
        OkHttpClient client = client(b -> b.authenticator((route, response) ->
                response.request().header("Authorization") != null ? null
                        : response.request().newBuilder().header("Authorization", "Basic dXNlcjpwdw==").build()));
        try (Response r = client.newCall(new Request.Builder().url(fx.url("/private")).build()).execute()) {
            assertThat(r.body().string()).isEqualTo("hello Basic dXNlcjpwdw==");
            assertThat(r.priorResponse().code()).isEqualTo(401);
        }
        assertThat(fx.server.connections()).isEqualTo(1);
    }

    // ---- what cannot apply

    @Test
    void certificatePinsAndProxiesAreRefusedRatherThanIgnored() throws Exception {
        fx.serve(r -> Reply.ok("ok"));
        OkHttpClient pinned = client(b -> b.certificatePinner(new CertificatePinner.Builder()
                .add("127.0.0.1", "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").build()));
        assertThatThrownBy(() -> get(pinned, "/")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("CertificatePinner");
        Proxy proxy = new Proxy(Proxy.Type.HTTP, new InetSocketAddress("127.0.0.1", 3128));
        OkHttpClient proxied = client(b -> b.proxy(proxy));
        assertThatThrownBy(() -> get(proxied, "/")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("proxy");
        assertThat(fx.server.connections()).isZero();
        assertThat(get(client(b -> b.proxy(Proxy.NO_PROXY)), "/")).isEqualTo("ok");
    }
}
