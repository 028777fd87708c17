package io.berth.pool.jdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.CloseReason;
import io.berth.PoolStats;
import io.berth.TruncatedBodyException;
import io.berth.transport.testing.HttpTestServer;
import io.berth.transport.testing.HttpTestServer.Reply;
import io.berth.transport.testing.RawServer;
import io.berth.transport.testing.TestPki;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every standard {@link BodyPublishers} and {@link BodyHandlers} through {@link BerthHttpClient}: the
 * bytes arrive intact, framed as their length says, and the connection is released so the next
 * request reuses it; failures and truncation reach the caller.
 */
class JdkBodiesTest extends JdkTestBase {
    private static final String TEXT = "first line\nsecond line\r\nthird line";

    @TempDir
    Path tmp;

    /** A server that echoes each request: method, framing and body. */
    private BerthHttpClient echo() throws IOException {
        serve(r -> Reply.ok(r.method() + "|" + (r.header("Content-Length") != null ? "length "
                + r.header("Content-Length") : r.header("Transfer-Encoding")) + "|" + r.bodyText()));
        return client();
    }

    private String post(BerthHttpClient client, BodyPublisher body) throws Exception {
        return client.send(HttpRequest.newBuilder(uri("/echo")).POST(body).build(), BodyHandlers.ofString()).body();
    }

    // ------------------------------------------------------------------ publishers

    @Test
    void noBodyStringAndByteArrayPublishersSendTheirBytesWithALength() throws Exception {
        BerthHttpClient client = echo();
        assertThat(post(client, BodyPublishers.noBody())).isEqualTo("POST|length 0|");
        assertThat(post(client, BodyPublishers.ofString("h\u00e9llo"))).isEqualTo("POST|length 6|h\u00e9llo");
        assertThat(post(client, BodyPublishers.ofString("h\u00e9llo", StandardCharsets.ISO_8859_1)))
                .isEqualTo("POST|length 5|h\ufffdllo");
        assertThat(post(client, BodyPublishers.ofByteArray("bytes".getBytes()))).isEqualTo("POST|length 5|bytes");
        assertThat(post(client, BodyPublishers.ofByteArray("xxbytesxx".getBytes(), 2, 5)))
                .isEqualTo("POST|length 5|bytes");
        assertThat(client.send(HttpRequest.newBuilder(uri("/echo")).build(), BodyHandlers.ofString()).body())
                .as("a GET has no body and no framing header").isEqualTo("GET|null|");
        assertThat(client.send(HttpRequest.newBuilder(uri("/echo")).method("GET", BodyPublishers.noBody()).build(),
                BodyHandlers.ofString()).body()).isEqualTo("GET|null|");
    }

    @Test
    void publishersOfUnknownLengthAreSentChunked() throws Exception {
        BerthHttpClient client = echo();
        assertThat(post(client, BodyPublishers.ofByteArrays(List.of("a".getBytes(), "".getBytes(), "bc".getBytes()))))
                .isEqualTo("POST|chunked|abc");
        assertThat(post(client, BodyPublishers.ofInputStream(() -> new ByteArrayInputStream("streamed".getBytes()))))
                .isEqualTo("POST|chunked|streamed");
        assertThat(post(client, BodyPublishers.fromPublisher(BodyPublishers.ofString("adapted"))))
                .isEqualTo("POST|chunked|adapted");
        assertThat(post(client, BodyPublishers.concat(BodyPublishers.ofString("con"), BodyPublishers.ofString("cat"))))
                .isEqualTo("POST|length 6|concat");
        assertThat(server.connections()).as("POSTs under SAFE take new connections").isEqualTo(4);
    }

    @Test
    void aFilePublisherSendsTheFileWithItsLength() throws Exception {
        BerthHttpClient client = echo();
        Path file = tmp.resolve("body.txt");
        Files.writeString(file, "from a file");
        assertThat(post(client, BodyPublishers.ofFile(file))).isEqualTo("POST|length 11|from a file");
    }

    @Test
    void aLargeBodyStreamsThroughInBoundedPieces() throws Exception {
        serve(r -> Reply.ok(r.header("Content-Length") + " " + r.header("Transfer-Encoding") + " "
                + java.util.Arrays.hashCode(r.body())));
        BerthHttpClient client = client();
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(big);
        String expected = " " + java.util.Arrays.hashCode(big);
        assertThat(post(client, BodyPublishers.ofByteArray(big))).isEqualTo(big.length + " null" + expected);
        assertThat(post(client, BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))))
                .isEqualTo("null chunked" + expected);
        Path file = tmp.resolve("big.bin");
        Files.write(file, big);
        assertThat(post(client, BodyPublishers.ofFile(file))).isEqualTo(big.length + " null" + expected);
    }

    /** Emits on another thread, as a reactive source would, honouring demand. */
    private static BodyPublisher asyncPublisher(List<String> parts, long length) {
        Flow.Publisher<ByteBuffer> source = subscriber -> {
            SubmissionPublisher<ByteBuffer> p = new SubmissionPublisher<>(
                    java.util.concurrent.ForkJoinPool.commonPool(), 2);
            p.subscribe(subscriber);
            Thread t = new Thread(() -> {
                for (String part : parts) {
                    p.submit(ByteBuffer.wrap(part.getBytes(StandardCharsets.UTF_8)));
                }
                p.close();
            }, "test-async-publisher");
            t.setDaemon(true);
            t.start();
        };
        return length < 0 ? BodyPublishers.fromPublisher(source) : BodyPublishers.fromPublisher(source, length);
    }

    @Test
    void fromPublisherWithAndWithoutLengthCarriesAnAsynchronousSource() throws Exception {
        BerthHttpClient client = echo();
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            parts.add("part" + i + ";");
        }
        String all = String.join("", parts);
        assertThat(post(client, asyncPublisher(parts, -1))).isEqualTo("POST|chunked|" + all);
        assertThat(post(client, asyncPublisher(parts, all.length()))).isEqualTo("POST|length " + all.length() + "|"
                + all);
    }

    @Test
    void aFailingPublisherFailsTheSendWithItsCauseAndLeaksNothing() throws Exception {
        BerthHttpClient client = echo();
        IOException boom = new IOException("boom from the publisher");
        BodyPublisher failing = BodyPublishers.fromPublisher(subscriber -> subscriber.onSubscribe(
                new Flow.Subscription() {
                    private boolean sent;

                    @Override
                    public void request(long n) {
                        if (!sent) {
                            sent = true;
                            subscriber.onNext(ByteBuffer.wrap("partial".getBytes()));
                            subscriber.onError(boom);
                        }
                    }

                    @Override
                    public void cancel() {
                    }
                }));
        assertThatThrownBy(() -> post(client, failing)).isInstanceOf(IOException.class).hasCause(boom);
        assertThatThrownBy(() -> client.sendAsync(HttpRequest.newBuilder(uri("/echo")).POST(failing).build(),
                BodyHandlers.ofString()).get(10, TimeUnit.SECONDS)).hasRootCause(boom);
        BodyPublisher throwing = BodyPublishers.fromPublisher(subscriber -> {
            throw new IllegalStateException("cannot subscribe");
        });
        assertThatThrownBy(() -> post(client, throwing)).isInstanceOf(IOException.class)
                .hasRootCauseMessage("cannot subscribe");
        assertThatThrownBy(() -> post(client, BodyPublishers.ofInputStream(() -> new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("disk gone");
            }
        }))).isInstanceOf(IOException.class).hasRootCauseMessage("disk gone");
        assertThat(server.requests()).as("no broken request reached the handler").isEmpty();
        assertThat(post(client, BodyPublishers.ofString("fine"))).isEqualTo("POST|length 4|fine");
        assertThat(stats(client, server).inUse()).isZero();
    }

    @Test
    void aPublisherThatBreaksItsLengthOrStaysSilentFailsWithinBounds() throws Exception {
        BerthHttpClient client = echo();
        assertThatThrownBy(() -> post(client, BodyPublishers.fromPublisher(BodyPublishers.ofString("short"), 10)))
                .isInstanceOf(IOException.class).hasMessageContaining("contentLength() is 10");
        assertThatThrownBy(() -> post(client, BodyPublishers.fromPublisher(BodyPublishers.ofString("too long"), 3)))
                .isInstanceOf(IOException.class).hasMessageContaining("more than its contentLength()");
        HttpRequest silent = HttpRequest.newBuilder(uri("/echo")).timeout(Duration.ofMillis(300))
                .POST(BodyPublishers.fromPublisher(subscriber -> { })).build();
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.send(silent, BodyHandlers.ofString()))
                .isInstanceOf(HttpTimeoutException.class).hasMessageContaining("publisher");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
        assertThat(post(client, BodyPublishers.ofString("fine"))).isEqualTo("POST|length 4|fine");
    }

    @Test
    void replayabilityFollowsThePublisher() {
        Duration d = Duration.ofSeconds(1);
        assertThat(PublisherBody.of(BodyPublishers.noBody(), d).isReplayable()).isTrue();
        assertThat(PublisherBody.of(BodyPublishers.ofString("x"), d).isReplayable()).isTrue();
        assertThat(PublisherBody.of(BodyPublishers.ofByteArray(new byte[2], 0, 1), d).isReplayable()).isTrue();
        assertThat(PublisherBody.of(BodyPublishers.ofByteArrays(List.of()), d).isReplayable()).isFalse();
        assertThat(PublisherBody.of(BodyPublishers.ofInputStream(InputStream::nullInputStream), d).isReplayable())
                .isFalse();
        assertThat(PublisherBody.of(BodyPublishers.fromPublisher(s -> { }), d).isReplayable()).isFalse();
        assertThat(PublisherBody.of(BodyPublishers.concat(BodyPublishers.ofString("a"), BodyPublishers.ofString("b")),
                d).isReplayable()).isFalse();
        assertThat(PublisherBody.of(BerthHttpClient.replayable(BodyPublishers.ofByteArrays(List.of())), d)
                .isReplayable()).isTrue();
    }

    @Test
    void anIdempotentRequestWithAReplayableBodyIsRetriedWithItsBody() throws Exception {
        serve(r -> r.connection() == 0 && r.exchange() == 1 ? Reply.ok("").then(HttpTestServer.After.RESET_INSTEAD)
                : Reply.ok(r.method() + " " + r.bodyText()));
        BerthHttpClient client = client();
        client.send(get("/"), BodyHandlers.discarding());
        HttpRequest put = HttpRequest.newBuilder(uri("/doc")).PUT(BodyPublishers.ofString("v2")).build();
        assertThat(client.send(put, BodyHandlers.ofString()).body()).isEqualTo("PUT v2");
        assertThat(connectionsOfRequests()).as("the PUT reused connection 0, which died; retried on 1")
                .containsExactly(0, 0, 1);
    }

    // ------------------------------------------------------------------ handlers

    /** Sends one more GET and checks it went over the same single connection: the last one was released. */
    private void assertConnectionReused(BerthHttpClient client) throws Exception {
        await().atMost(Duration.ofSeconds(5)).until(() -> stats(client, server).inUse() == 0);
        client.send(get("/text"), BodyHandlers.discarding());
        assertThat(server.connections()).as("every exchange on one connection").isEqualTo(1);
    }

    private BerthHttpClient text() throws IOException {
        serve(r -> r.target().startsWith("/chunked") ? Reply.ok(TEXT).chunked() : Reply.ok(TEXT));
        return client();
    }

    private <T> T getBody(BerthHttpClient client, String path, BodyHandler<T> handler) throws Exception {
        HttpResponse<T> r = client.send(get(path), handler);
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    @Test
    void ofStringOfByteArrayDiscardingAndReplacing() throws Exception {
        BerthHttpClient client = text();
        assertThat(getBody(client, "/text", BodyHandlers.ofString())).isEqualTo(TEXT);
        assertThat(getBody(client, "/chunked", BodyHandlers.ofString(StandardCharsets.UTF_8))).isEqualTo(TEXT);
        assertThat(getBody(client, "/text", BodyHandlers.ofByteArray())).isEqualTo(TEXT.getBytes());
        assertThat(getBody(client, "/chunked", BodyHandlers.discarding())).isNull();
        assertThat(getBody(client, "/text", BodyHandlers.replacing("instead"))).isEqualTo("instead");
        assertConnectionReused(client);
    }

    @Test
    void ofInputStreamAndOfLinesStreamTheBody() throws Exception {
        BerthHttpClient client = text();
        try (InputStream in = getBody(client, "/text", BodyHandlers.ofInputStream())) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
        }
        try (InputStream in = getBody(client, "/chunked", BodyHandlers.ofInputStream())) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
        }
        try (Stream<String> lines = getBody(client, "/text", BodyHandlers.ofLines())) {
            assertThat(lines).containsExactly("first line", "second line", "third line");
        }
        assertConnectionReused(client);
    }

    @Test
    void aSmallBodyThatCameWithItsHeadHoldsNoConnectionEvenIfItsStreamIsNeverClosed() throws Exception {
        serve(r -> Reply.ok("small " + r.exchange()));
        BerthHttpClient client = client();
        List<InputStream> unclosed = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            unclosed.add(getBody(client, "/", BodyHandlers.ofInputStream()));
            assertThat(stats(client, server).inUse()).as("the connection went back before send returned").isZero();
        }
        assertThat(server.connections()).as("one connection carried all three").isEqualTo(1);
        for (int i = 0; i < 3; i++) {
            assertThat(new String(unclosed.get(i).readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("small " + i);
        }
    }

    @Test
    void aSmallBodyStillOnItsWayIsReadWholeFromItsConnection() throws Exception {
        serve(r -> Reply.ok("0123456789".repeat(100)).pauseBeforeLast(10, Duration.ofMillis(200)));
        BerthHttpClient client = client();
        long start = System.nanoTime();
        assertThat(getBody(client, "/", BodyHandlers.ofString())).isEqualTo("0123456789".repeat(100));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("it waited for the last bytes")
                .isGreaterThanOrEqualTo(Duration.ofMillis(150));
        try (InputStream in = getBody(client, "/", BodyHandlers.ofInputStream())) {
            assertThat(in.readAllBytes()).hasSize(1000);
        }
        assertThat(stats(client, server).inUse()).isZero();
        assertConnectionReused(client);
    }

    @Test
    void aBodyThatRunsUntilTheServerClosesIsReadToItsEnd() throws Exception {
        serve(r -> Reply.ok(TEXT).untilClose());
        BerthHttpClient client = client();
        assertThat(getBody(client, "/", BodyHandlers.ofString())).isEqualTo(TEXT);
        try (InputStream in = getBody(client, "/", BodyHandlers.ofInputStream())) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            PoolStats st = stats(client, server);
            assertThat(st.inUse()).isZero();
            assertThat(st.closed(CloseReason.NOT_REUSABLE)).isEqualTo(2);
        });
    }

    @Test
    void ofFileWritesTheBody() throws Exception {
        BerthHttpClient client = text();
        Path file = tmp.resolve("out.txt");
        assertThat(getBody(client, "/chunked", BodyHandlers.ofFile(file))).isEqualTo(file);
        assertThat(Files.readString(file)).isEqualTo(TEXT);
        assertConnectionReused(client);
    }

    @Test
    void ofPublisherDeliversTheBodyToALaterSubscriber() throws Exception {
        BerthHttpClient client = text();
        Flow.Publisher<List<ByteBuffer>> publisher = getBody(client, "/text", BodyHandlers.ofPublisher());
        CompletableFuture<String> collected = new CompletableFuture<>();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        publisher.subscribe(new Flow.Subscriber<>() {
            private Flow.Subscription s;

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                s = subscription;
                s.request(1);
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
                item.forEach(b -> {
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    bytes.writeBytes(a);
                });
                s.request(1);
            }

            @Override
            public void onError(Throwable t) {
                collected.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                collected.complete(bytes.toString(StandardCharsets.UTF_8));
            }
        });
        assertThat(collected.get(10, TimeUnit.SECONDS)).isEqualTo(TEXT);
        assertConnectionReused(client);
    }

    @Test
    void bufferingByteArrayConsumerAndSubscriberAdapters() throws Exception {
        BerthHttpClient client = text();
        assertThat(getBody(client, "/chunked", BodyHandlers.buffering(BodyHandlers.ofString(), 3))).isEqualTo(TEXT);

        ByteArrayOutputStream consumed = new ByteArrayOutputStream();
        List<Boolean> ended = new ArrayList<>();
        assertThat(getBody(client, "/text", BodyHandlers.ofByteArrayConsumer(chunk -> chunk.ifPresentOrElse(
                consumed::writeBytes, () -> ended.add(true))))).isNull();
        assertThat(consumed.toString(StandardCharsets.UTF_8)).isEqualTo(TEXT);
        assertThat(ended).containsExactly(true);

        CollectingSubscriber raw = new CollectingSubscriber();
        assertThat(getBody(client, "/text", BodyHandlers.fromSubscriber(raw))).isNull();
        assertThat(raw.text()).isEqualTo(TEXT);
        assertThat(getBody(client, "/chunked", BodyHandlers.fromSubscriber(new CollectingSubscriber(),
                CollectingSubscriber::text))).isEqualTo(TEXT);

        LineCollector lines = new LineCollector();
        assertThat(getBody(client, "/text", BodyHandlers.fromLineSubscriber(lines))).isNull();
        assertThat(lines.lines).containsExactly("first line", "second line", "third line");
        LineCollector custom = new LineCollector();
        Integer count = getBody(client, "/text", BodyHandlers.fromLineSubscriber(custom, c -> c.lines.size(), "\n"));
        assertThat(count).isEqualTo(3);
        assertThat(custom.lines).containsExactly("first line", "second line\r", "third line");
        assertConnectionReused(client);
    }

    @Test
    void theHandlerSeesTheResponseHeadAndEmptyBodiesComplete() throws Exception {
        serve(r -> r.target().equals("/none") ? Reply.status(204, "No Content")
                : Reply.ok(r.method().equals("HEAD") ? "" : "body").header("X-Kind", "k"));
        BerthHttpClient client = client();
        AtomicReference<HttpResponse.ResponseInfo> seen = new AtomicReference<>();
        HttpResponse<String> r = client.send(get("/x"), info -> {
            seen.set(info);
            return BodySubscribers.ofString(StandardCharsets.UTF_8);
        });
        assertThat(seen.get().statusCode()).isEqualTo(200);
        assertThat(seen.get().headers().firstValue("x-kind")).hasValue("k");
        assertThat(seen.get().version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_1_1);
        assertThat(r.body()).isEqualTo("body");
        assertThat(client.send(get("/none"), BodyHandlers.ofString()).body()).isEmpty();
        try (InputStream in = client.send(get("/none"), BodyHandlers.ofInputStream()).body()) {
            assertThat(in.read()).isEqualTo(-1);
        }
        HttpRequest head = HttpRequest.newBuilder(uri("/x")).method("HEAD", BodyPublishers.noBody()).build();
        HttpResponse<byte[]> h = client.send(head, BodyHandlers.ofByteArray());
        assertThat(h.body()).isEmpty();
        assertThat(h.headers().firstValue("X-Kind")).hasValue("k");
        assertConnectionReused(client);
    }

    @Test
    void aLargeBodyArrivesWholeThroughEveryKindOfHandler() throws Exception {
        byte[] big = new byte[2 * 1024 * 1024 + 3];
        new Random(7).nextBytes(big);
        serve(r -> r.target().equals("/chunked") ? Reply.ok("").body(big).chunked() : Reply.ok("").body(big));
        BerthHttpClient client = client();
        assertThat(getBody(client, "/big", BodyHandlers.ofByteArray())).isEqualTo(big);
        assertThat(getBody(client, "/chunked", BodyHandlers.ofByteArray())).isEqualTo(big);
        try (InputStream in = getBody(client, "/big", BodyHandlers.ofInputStream())) {
            assertThat(in.readAllBytes()).isEqualTo(big);
        }
        Path file = tmp.resolve("big.out");
        getBody(client, "/chunked", BodyHandlers.ofFile(file));
        assertThat(Files.readAllBytes(file)).isEqualTo(big);
        assertThat(getBody(client, "/big", BodyHandlers.buffering(BodyHandlers.ofByteArray(), 100_000)))
                .isEqualTo(big);
        assertConnectionReused(client);
    }

    // ------------------------------------------------------------------ truncation, partial reads

    @Test
    void aTruncatedBodyIsAnIOExceptionNeverACompleteBody() throws Exception {
        serve(r -> Reply.ok("0123456789".repeat(100)).sendOnly(500));
        BerthHttpClient client = client();
        assertThatThrownBy(() -> client.send(get("/cut"), BodyHandlers.ofString()))
                .isInstanceOf(TruncatedBodyException.class);
        assertThatThrownBy(() -> client.sendAsync(get("/cut"), BodyHandlers.ofByteArray()).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(TruncatedBodyException.class);
        InputStream in = client.send(get("/cut"), BodyHandlers.ofInputStream()).body();
        assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class)
                .hasRootCauseInstanceOf(TruncatedBodyException.class);
        in.close();
        try (Stream<String> lines = client.send(get("/cut"), BodyHandlers.ofLines()).body()) {
            assertThatThrownBy(() -> lines.collect(Collectors.toList())).hasRootCauseInstanceOf(
                    TruncatedBodyException.class);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            PoolStats s = stats(client, server);
            assertThat(s.inUse()).isZero();
            assertThat(s.closed(CloseReason.BROKEN)).isEqualTo(4);
        });
    }

    @Test
    void aPartlyReadSmallStreamIsDrainedOnCloseAndItsConnectionReused() throws Exception {
        serve(r -> Reply.ok("x".repeat(20_000)));
        BerthHttpClient client = client();
        for (int i = 0; i < 3; i++) {
            InputStream in = client.send(get("/small"), BodyHandlers.ofInputStream()).body();
            assertThat(in.readNBytes(100)).hasSize(100);
            in.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> stats(client, server).inUse() == 0);
        }
        assertConnectionReused(client);
    }

    @Test
    void aPartlyReadLargeStreamIsClosedOnCloseWithoutLeaking() throws Exception {
        byte[] big = new byte[4 * 1024 * 1024];
        serve(r -> Reply.ok("").body(big));
        BerthHttpClient client = client();
        InputStream in = client.send(get("/large"), BodyHandlers.ofInputStream()).body();
        assertThat(in.readNBytes(1000)).hasSize(1000);
        in.close();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            PoolStats s = stats(client, server);
            assertThat(s.inUse()).isZero();
            assertThat(s.total()).as("too much left to drain: closed, not kept").isZero();
        });
        assertThat(client.send(get("/large"), BodyHandlers.ofByteArray()).body()).hasSize(big.length);
        assertThat(server.connections()).isEqualTo(2);
    }

    @Test
    void anUnreadStreamingBodyDoesNotBlockSendAndIsReadAsTheCallerReads() throws Exception {
        CountDownLatch firstPartRead = new CountDownLatch(1);
        RawServer raw = closeLater(RawServer.start(socket -> {
            SSLSocket tls = RawServer.tls(socket, TestPki.server().context());
            RawServer.readHead(tls.getInputStream());
            OutputStream out = tls.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".getBytes());
            out.flush();
            if (!firstPartRead.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the client never read the first part on its own");
            }
            out.write("6\r\n world\r\n0\r\n\r\n".getBytes());
            out.flush();
            try {
                tls.getInputStream().read(); // until the client closes the connection
            } catch (IOException closed) {
                // the client's close
            }
        }));
        BerthHttpClient client = client();
        HttpRequest request = HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:" + raw.port() + "/sse"))
                .build();
        try (InputStream in = client.send(request, BodyHandlers.ofInputStream()).body()) {
            assertThat(new String(in.readNBytes(5), StandardCharsets.UTF_8))
                    .as("the first part, readable before the rest was sent").isEqualTo("hello");
            firstPartRead.countDown();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(" world");
        }
        assertThat(raw.failures()).isEmpty();
    }

    @Test
    void aSubscriberThatCancelsReleasesTheConnectionAndSendDoesNotHang() throws Exception {
        serve(r -> Reply.ok("y".repeat(50_000)));
        BerthHttpClient client = client();
        BodyHandler<Void> cancelling = BodyHandlers.fromSubscriber(new Flow.Subscriber<List<ByteBuffer>>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(1);
                s.cancel();
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onComplete() {
            }
        });
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.send(get("/cancel"), cancelling)).isInstanceOf(IOException.class)
                .hasMessageContaining("cancelled its subscription");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertConnectionReused(client);
    }

    @Test
    void aSubscriberThatFailsWhileWritingGetsTheConnectionReleased() throws Exception {
        serve(r -> Reply.ok("z".repeat(30_000)));
        BerthHttpClient client = client();
        Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
        assertThatThrownBy(() -> client.send(get("/f"), BodyHandlers.ofFile(notADirectory.resolve("child"))))
                .isInstanceOf(IOException.class);
        assertConnectionReused(client);
    }

    // ------------------------------------------------------------------ the subscription protocol

    /**
     * A subscriber that checks the Reactive Streams rules the adapter must keep, and asks for one
     * item at a time: from inside {@code onNext} (re-entrant) for odd items, from another thread for
     * even ones.
     */
    static final class StrictSubscriber implements HttpResponse.BodySubscriber<byte[]> {
        final CompletableFuture<byte[]> body = new CompletableFuture<>();
        final List<String> violations = Collections.synchronizedList(new ArrayList<>());
        private final java.util.concurrent.ExecutorService helper;
        private final java.util.concurrent.atomic.AtomicLong outstanding = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicInteger subscribes = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicInteger terminals = new java.util.concurrent.atomic.AtomicInteger();
        private final ThreadLocal<Integer> depth = ThreadLocal.withInitial(() -> 0);
        volatile int maxDepth;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private volatile Flow.Subscription subscription;
        private int items;

        StrictSubscriber(java.util.concurrent.ExecutorService helper) {
            this.helper = helper;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            if (subscribes.incrementAndGet() != 1) {
                violations.add("onSubscribe more than once");
            }
            subscription = s;
            requestOne();
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            int d = depth.get() + 1;
            depth.set(d);
            maxDepth = Math.max(maxDepth, d);
            try {
                if (outstanding.decrementAndGet() < 0) {
                    violations.add("onNext without demand");
                }
                if (terminals.get() > 0) {
                    violations.add("onNext after a terminal signal");
                }
                synchronized (bytes) {
                    for (ByteBuffer b : item) {
                        byte[] a = new byte[b.remaining()];
                        b.get(a);
                        bytes.writeBytes(a);
                    }
                }
                if (++items % 2 == 1) {
                    requestOne();
                } else {
                    helper.execute(this::requestOne);
                }
            } finally {
                depth.set(d - 1);
            }
        }

        /** Counts the demand first: an onNext for it can only come after the request. */
        private void requestOne() {
            outstanding.incrementAndGet();
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            if (terminals.incrementAndGet() != 1) {
                violations.add("a second terminal signal: onError(" + t + ")");
            }
            body.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            if (terminals.incrementAndGet() != 1) {
                violations.add("a second terminal signal: onComplete");
            }
            synchronized (bytes) {
                body.complete(bytes.toByteArray());
            }
        }

        @Override
        public java.util.concurrent.CompletionStage<byte[]> getBody() {
            return body;
        }
    }

    @Test
    void theSubscriptionKeepsDemandSignalsOnceAndTrampolinesReentrantRequests() throws Exception {
        byte[] big = new byte[1024 * 1024 + 5];
        new Random(3).nextBytes(big);
        serve(r -> r.target().equals("/chunked") ? Reply.ok("").body(big).chunked() : Reply.ok("").body(big));
        BerthHttpClient client = client();
        java.util.concurrent.ExecutorService helper = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            for (String path : List.of("/fixed", "/chunked")) {
                StrictSubscriber strict = new StrictSubscriber(helper);
                assertThat(client.send(get(path), info -> strict).body()).isEqualTo(big);
                assertThat(strict.violations).isEmpty();
                assertThat(strict.maxDepth).as("onNext never nests: request() from onNext only adds demand")
                        .isEqualTo(1);
                StrictSubscriber async = new StrictSubscriber(helper);
                assertThat(client.sendAsync(get(path), info -> async).get(10, TimeUnit.SECONDS).body()).isEqualTo(big);
                assertThat(async.violations).isEmpty();
            }
        } finally {
            helper.shutdownNow();
            helper.awaitTermination(5, TimeUnit.SECONDS);
        }
        assertConnectionReused(client);
    }

    @Test
    void aNonPositiveRequestIsSignalledAsAnError() throws Exception {
        serve(r -> Reply.ok("x".repeat(1000)));
        BerthHttpClient client = client();
        CollectingSubscriber never = new CollectingSubscriber() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(0);
            }
        };
        assertThatThrownBy(() -> client.send(get("/"), BodyHandlers.fromSubscriber(never)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3.9");
        await().atMost(Duration.ofSeconds(5)).until(() -> stats(client, server).inUse() == 0);
    }

    @Test
    void streamingHandlersWorkThroughSendAsyncToo() throws Exception {
        BerthHttpClient client = text();
        HttpResponse<InputStream> r = client.sendAsync(get("/chunked"), BodyHandlers.ofInputStream())
                .get(10, TimeUnit.SECONDS);
        try (InputStream in = r.body()) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
        }
        HttpResponse<Stream<String>> lines = client.sendAsync(get("/text"), BodyHandlers.ofLines())
                .get(10, TimeUnit.SECONDS);
        try (Stream<String> l = lines.body()) {
            assertThat(l).hasSize(3);
        }
        assertConnectionReused(client);
    }

    @Test
    void cancellingAnAsyncSendWhileItsBodyIsReadClosesTheConnection() throws Exception {
        CountDownLatch stalled = new CountDownLatch(1);
        RawServer raw = closeLater(RawServer.start(socket -> {
            SSLSocket tls = RawServer.tls(socket, TestPki.server().context());
            RawServer.readHead(tls.getInputStream());
            tls.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial".getBytes());
            tls.getOutputStream().flush();
            stalled.countDown();
            try {
                tls.getInputStream().read(); // until the client gives up
            } catch (IOException closed) {
                // the client's reset
            }
        }));
        BerthHttpClient client = client();
        HttpRequest request = HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:" + raw.port() + "/"))
                .build();
        CompletableFuture<HttpResponse<String>> f = client.sendAsync(request, BodyHandlers.ofString());
        assertThat(stalled.await(10, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(100); // let the exchange reach the body read
        assertThat(f.cancel(true)).isTrue();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            PoolStats st = client.pools().client(request.uri()).pool().stats();
            assertThat(st.inUse()).isZero();
            assertThat(st.total()).isZero();
        });
    }

    @Test
    void gzipIsDecodedUnlessTheRequestAsksForEncodedBytes() throws Exception {
        ByteArrayOutputStream zipped = new ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(zipped)) {
            gz.write(TEXT.getBytes(StandardCharsets.UTF_8));
        }
        serve(r -> "gzip".equals(r.header("Accept-Encoding"))
                ? Reply.ok("").body(zipped.toByteArray()).header("Content-Encoding", "gzip") : Reply.ok(TEXT));
        BerthHttpClient client = client();
        HttpResponse<String> decoded = client.send(get("/"), BodyHandlers.ofString());
        assertThat(decoded.body()).isEqualTo(TEXT);
        assertThat(decoded.headers().firstValue("Content-Encoding")).isEmpty();
        HttpResponse<byte[]> encoded = client.send(HttpRequest.newBuilder(uri("/")).header("Accept-Encoding", "gzip")
                .build(), BodyHandlers.ofByteArray());
        assertThat(encoded.body()).isEqualTo(zipped.toByteArray());
        assertThat(encoded.headers().firstValue("Content-Encoding")).hasValue("gzip");
        assertConnectionReused(client);
    }

    // ------------------------------------------------------------------ helpers

    /** A plain {@code Flow.Subscriber<List<ByteBuffer>>} that requests one item at a time. */
    static class CollectingSubscriber implements Flow.Subscriber<List<ByteBuffer>> {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            for (ByteBuffer b : item) {
                byte[] a = new byte[b.remaining()];
                b.get(a);
                bytes.writeBytes(a);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    /** Collects lines, requesting them all at once. */
    static final class LineCollector implements Flow.Subscriber<String> {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String item) {
            lines.add(item);
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }
    }
}
