package io.berth.transport.http1;

import static io.berth.transport.http1.Wire.head;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.HttpProtocolException;
import io.berth.Outcome;
import io.berth.ResponseTimeoutException;
import io.berth.TruncatedBodyException;
import io.berth.spi.Connection.Liveness;
import io.berth.transport.BufferPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(10)
class Http1CodecTest {
    static final long T = TimeUnit.SECONDS.toNanos(5);
    static final HeaderFields HOST = HeaderFields.of("Host", "backend.test");
    static final String OK_HELLO = head("HTTP/1.1 200 OK", "Content-Length: 5") + "hello";
    static final String CHUNKED_HELLO = head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked")
            + "2\r\nhe\r\n3;ext=1\r\nllo\r\n0\r\nX-Sum: 42\r\n\r\n";

    final BufferPool pool = new BufferPool(8);
    final List<Recorder> recorders = new ArrayList<>();

    /** A listener that records its outcome and fails on a second call. */
    final class Recorder implements ExchangeListener {
        final List<Outcome> calls = new ArrayList<>();

        Recorder() {
            recorders.add(this);
        }

        @Override
        public void exchangeCompleted(Outcome outcome) {
            calls.add(outcome);
        }

        Outcome outcome() {
            assertThat(calls).as("listener calls").hasSize(1);
            return calls.get(0);
        }
    }

    @AfterEach
    void everyListenerWasCalledAtMostOnce() {
        for (Recorder r : recorders) {
            assertThat(r.calls).as("listener calls").hasSizeLessThanOrEqualTo(1);
        }
    }

    Http1Codec wrap(ScriptedConnection sc) {
        return Http1Codec.of(sc, 64 * 1024, Duration.ofMillis(300), pool);
    }

    static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = new byte[7]; // small, so bodies take several reads
        int n;
        while ((n = in.read(b)) >= 0) {
            out.write(b, 0, n);
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** Runs a GET and reads its whole body. */
    record Exchange(ResponseHead head, String body, ResponseBody stream, Outcome outcome) {
    }

    Exchange get(Http1Codec c) throws IOException {
        return exchange(c, "GET", false);
    }

    Exchange exchange(Http1Codec c, String method, boolean headRequest) throws IOException {
        c.writeRequest(method, "/", HOST, null, T);
        ResponseHead h = c.readResponseHead(T, headRequest);
        Recorder r = new Recorder();
        ResponseBody b = c.body(h, headRequest, T, r);
        String body = readAll(b);
        assertThat(b.read()).isEqualTo(-1);
        b.close();
        return new Exchange(h, body, b, r.outcome());
    }

    @Nested
    class KeepAliveAndFraming {
        @Test
        void contentLengthBodyKeepsTheConnection() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO);
            Http1Codec c = wrap(sc);
            Exchange x = get(c);
            assertThat(x.body()).isEqualTo("hello");
            assertThat(x.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(sc.written()).isEqualTo("GET / HTTP/1.1\r\nHost: backend.test\r\n\r\n");
            assertThat(sc.writes).isEqualTo(1);
            assertThat(x.stream().trailers()).isSameAs(HeaderFields.EMPTY);
            assertThat(x.stream().contentLength()).isEqualTo(5);
            assertThat(x.stream().isComplete()).isTrue();
            assertThat(sc.readTimeouts).containsOnly(T);
        }

        @Test
        void chunkedBodyWithTrailers() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(CHUNKED_HELLO);
            Exchange x = get(wrap(sc));
            assertThat(x.body()).isEqualTo("hello");
            assertThat(x.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(x.stream().trailers()).isEqualTo(HeaderFields.of("X-Sum", "42"));
            assertThat(x.stream().contentLength()).isEqualTo(-1);
        }

        @Test
        void connectionCloseIsNotReusable() throws Exception {
            ScriptedConnection sc = new ScriptedConnection()
                    .data(head("HTTP/1.1 200 OK", "Content-Length: 2", "Connection: close") + "ok");
            assertThat(get(wrap(sc)).outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }

        @Test
        void http10NeedsKeepAlive() throws Exception {
            ScriptedConnection plain = new ScriptedConnection().data(head("HTTP/1.0 200 OK", "Content-Length: 2") + "ok");
            assertThat(get(wrap(plain)).outcome()).isSameAs(Outcome.NOT_REUSABLE);
            ScriptedConnection ka = new ScriptedConnection()
                    .data(head("HTTP/1.0 200 OK", "Content-Length: 2", "Connection: keep-alive") + "ok");
            assertThat(get(wrap(ka)).outcome()).isSameAs(Outcome.REUSABLE);
        }

        @Test
        void keepAliveHintsReachTheOutcome() throws Exception {
            ScriptedConnection sc = new ScriptedConnection()
                    .data(head("HTTP/1.1 200 OK", "Content-Length: 2", "Keep-Alive: timeout=7, max=3") + "ok");
            assertThat(get(wrap(sc)).outcome()).isEqualTo(Outcome.keepAlive(Duration.ofSeconds(7), 3));
        }

        @Test
        void bodyUntilCloseEndsNotReusable() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK")).data("part one, ")
                    .data("part two").eof();
            Exchange x = get(wrap(sc));
            assertThat(x.body()).isEqualTo("part one, part two");
            assertThat(x.outcome()).isSameAs(Outcome.NOT_REUSABLE);
            assertThat(x.stream().trailers()).isSameAs(HeaderFields.EMPTY);
        }

        @Test
        void strayBytesAfterTheResponseMakeItNotReusable() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO + "HTTP/1.1 200 OK\r\n");
            Http1Codec c = wrap(sc);
            Exchange x = get(c);
            assertThat(x.body()).isEqualTo("hello");
            assertThat(x.outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }

        @Test
        void strayBytesAfterABodylessResponse() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 204 No Content") + "junk");
            Exchange x = get(wrap(sc));
            assertThat(x.outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }

        @Test
        void twoExchangesReuseTheBuffersAndCodecState() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO).data(CHUNKED_HELLO);
            Http1Codec c = wrap(sc);
            assertThat(get(c).outcome()).isSameAs(Outcome.REUSABLE);
            c.idle();
            assertThat(pool.size()).isEqualTo(2);
            assertThat(sc.idleCalls).as("the pool tells the connection itself").isZero();
            Exchange second = get(c);
            assertThat(second.body()).isEqualTo("hello");
            assertThat(pool.size()).isZero(); // taken again, not allocated anew
            c.idle();
            assertThat(pool.size()).isEqualTo(2);
            assertThat(sc.written()).isEqualTo("GET / HTTP/1.1\r\nHost: backend.test\r\n\r\n".repeat(2));
        }
    }

    /** A server answers a connection's requests with the same head: each exchange still gets its own decision. */
    @Nested
    class RepeatedHeads {
        @Test
        void theSameHeadAgainIsReadAgain() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO).data(OK_HELLO).data(OK_HELLO);
            Http1Codec c = wrap(sc);
            Exchange first = get(c);
            Exchange second = get(c);
            Exchange third = get(c);
            assertThat(List.of(first.body(), second.body(), third.body())).containsOnly("hello");
            assertThat(List.of(first.outcome(), second.outcome(), third.outcome())).containsOnly(Outcome.REUSABLE);
            assertThat(third.head()).isSameAs(second.head()).isSameAs(first.head());
            assertThat(sc.written()).isEqualTo("GET / HTTP/1.1\r\nHost: backend.test\r\n\r\n".repeat(3));
        }

        @Test
        void aHeadOfTheSameLengthThatSaysCloseIsNotReusable() throws Exception {
            String other = head("HTTP/1.1 200 OK", "Connection: other", "Content-Length: 5") + "hello";
            String close = head("HTTP/1.1 200 OK", "Connection: close", "Content-Length: 5") + "hello";
            String shorter = head("HTTP/1.1 200 OK", "Connection: other", "Content-Length: 4") + "hell";
            Http1Codec c = wrap(new ScriptedConnection().data(other).data(other).data(shorter).data(other).data(close));
            assertThat(get(c).outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(get(c).outcome()).isSameAs(Outcome.REUSABLE);
            Exchange x = get(c);
            assertThat(x.body()).isEqualTo("hell");
            assertThat(x.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(get(c).body()).isEqualTo("hello");
            Exchange closing = get(c);
            assertThat(closing.body()).isEqualTo("hello");
            assertThat(closing.outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }

        @Test
        void theSameHeadAnsweringHeadHasNoBodyAndAGetAfterItHasOne() throws Exception {
            String okHead = head("HTTP/1.1 200 OK", "Content-Length: 5");
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO).data(okHead).data(OK_HELLO);
            Http1Codec c = wrap(sc);
            assertThat(get(c).body()).isEqualTo("hello");
            Exchange head = exchange(c, "HEAD", true);
            assertThat(head.body()).isEmpty();
            assertThat(head.stream().contentLength()).isZero();
            assertThat(head.outcome()).isSameAs(Outcome.REUSABLE);
            Exchange again = get(c);
            assertThat(again.body()).isEqualTo("hello");
            assertThat(again.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(again.head()).isSameAs(head.head());
        }

        @Test
        void keepAliveHintsOfARepeatedHeadReachEveryOutcome() throws Exception {
            String hinted = head("HTTP/1.1 200 OK", "Keep-Alive: timeout=7, max=9", "Content-Length: 5") + "hello";
            Http1Codec c = wrap(new ScriptedConnection().data(hinted).data(hinted));
            Outcome first = get(c).outcome();
            Outcome second = get(c).outcome();
            assertThat(List.of(first, second)).allSatisfy(o -> {
                assertThat(o.reusable()).isTrue();
                assertThat(o.keepAliveTimeout()).isEqualTo(Duration.ofSeconds(7));
                assertThat(o.keepAliveMax()).isEqualTo(9);
            });
        }

        @Test
        void framingHeadersAreCheckedForEveryNewSetOfRequestHeaders() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO).data(OK_HELLO);
            Http1Codec c = wrap(sc);
            get(c);
            assertThatThrownBy(() -> c.writeRequest("GET", "/", HeaderFields.of("Host", "h", "Content-Length", "1"),
                    null, T)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Content-Length");
            assertThatThrownBy(() -> c.writeRequest("GET", "/", HeaderFields.of("Transfer-Encoding", "chunked"),
                    null, T)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Transfer-Encoding");
            assertThat(get(c).body()).isEqualTo("hello");
        }
    }

    static Stream<Arguments> responses() {
        return Stream.of(
                Arguments.of("fixed", OK_HELLO, "hello", Outcome.REUSABLE),
                Arguments.of("chunked", CHUNKED_HELLO, "hello", Outcome.REUSABLE),
                Arguments.of("interim then fixed", head("HTTP/1.1 100 Continue") + head("HTTP/1.1 103 Early Hints",
                        "Link: </a>; rel=preload") + OK_HELLO, "hello", Outcome.REUSABLE),
                Arguments.of("no content", head("HTTP/1.1 204 No Content", "Content-Length: 9"), "", Outcome.REUSABLE),
                Arguments.of("close", head("HTTP/1.1 200 OK", "Connection: close", "Transfer-Encoding: chunked")
                        + "3\r\nabc\r\n0\r\n\r\n", "abc", Outcome.NOT_REUSABLE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("responses")
    void sameExchangeWhereverTheServerSplitsItsResponse(String name, String response, String body, Outcome outcome)
            throws Exception {
        for (int at = 1; at < response.length(); at++) {
            ScriptedConnection sc = new ScriptedConnection().data(response, at);
            Exchange x = get(wrap(sc));
            assertThat(x.body()).as("split at %d", at).isEqualTo(body);
            assertThat(x.outcome()).as("split at %d", at).isEqualTo(outcome);
        }
        int[] everyByte = Wire.everyByte(response.length());
        Exchange x = get(wrap(new ScriptedConnection().data(response, everyByte)));
        assertThat(x.body()).isEqualTo(body);
        assertThat(x.outcome()).isEqualTo(outcome);
    }

    @Nested
    class BodylessResponses {
        @Test
        void headRequestIgnoresContentLength() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 1000"));
            Exchange x = exchange(wrap(sc), "HEAD", true);
            assertThat(x.body()).isEmpty();
            assertThat(x.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(x.stream().contentLength()).isZero();
            assertThat(sc.written()).startsWith("HEAD / HTTP/1.1\r\n");
        }

        @Test
        void notModifiedWithBodyHeadersHasNoBody() throws Exception {
            ScriptedConnection sc = new ScriptedConnection()
                    .data(head("HTTP/1.1 304 Not Modified", "Transfer-Encoding: chunked", "ETag: \"x\""));
            Exchange x = get(wrap(sc));
            assertThat(x.body()).isEmpty();
            assertThat(x.outcome()).isSameAs(Outcome.REUSABLE);
        }

        @Test
        void listenerIsCalledWhenTheBodyIsCreated() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 204 No Content"));
            Http1Codec c = wrap(sc);
            c.writeRequest("DELETE", "/x", HOST, null, T);
            ResponseHead h = c.readResponseHead(T, false);
            Recorder r = new Recorder();
            ResponseBody b = c.body(h, false, T, r);
            assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(b.isComplete()).isTrue();
            assertThat(b.available()).isZero();
            assertThat(b.read()).isEqualTo(-1);
            b.close();
            b.close();
            assertThat(r.calls).hasSize(1);
        }
    }

    @Nested
    class Failures {
        @Test
        void truncatedContentLengthBody() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 10"))
                    .data("12345").eof();
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            ResponseHead h = c.readResponseHead(T, false);
            Recorder r = new Recorder();
            ResponseBody b = c.body(h, false, T, r);
            assertThatThrownBy(() -> readAll(b)).isInstanceOf(TruncatedBodyException.class)
                    .hasMessageContaining("after 5 of 10 bytes");
            assertThat(r.outcome()).isSameAs(Outcome.BROKEN);
            assertThatThrownBy(b::read).isInstanceOf(IOException.class).hasMessageContaining("failed earlier");
            b.close();
            b.close();
            assertThat(r.calls).hasSize(1);
            assertThatThrownBy(b::trailers).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> c.writeRequest("GET", "/", HOST, null, T))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("retired");
        }

        @Test
        void truncatedChunkedBodyMidChunkAndBetweenChunks() throws Exception {
            for (String cut : List.of("5\r\nhel", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\nX: y\r\n")) {
                ScriptedConnection sc = new ScriptedConnection()
                        .data(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + cut).eof();
                Http1Codec c = wrap(sc);
                c.writeRequest("GET", "/", HOST, null, T);
                ResponseHead h = c.readResponseHead(T, false);
                Recorder r = new Recorder();
                ResponseBody b = c.body(h, false, T, r);
                assertThatThrownBy(() -> readAll(b)).as(cut).isInstanceOf(TruncatedBodyException.class)
                        .hasMessageContaining("before the last chunk");
                assertThat(r.outcome()).isSameAs(Outcome.BROKEN);
            }
        }

        @Test
        void invalidChunkIsAProtocolError() throws Exception {
            ScriptedConnection sc = new ScriptedConnection()
                    .data(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "5\r\nhelloXX");
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            ResponseHead h = c.readResponseHead(T, false);
            Recorder r = new Recorder();
            ResponseBody b = c.body(h, false, T, r);
            assertThatThrownBy(() -> readAll(b)).isInstanceOf(HttpProtocolException.class)
                    .isNotInstanceOf(TruncatedBodyException.class).hasMessageContaining("not followed by CRLF");
            assertThat(r.outcome()).isSameAs(Outcome.BROKEN);
        }

        @Test
        void stallMidBodyTimesOut() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 10"))
                    .data("12345").stall();
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            ResponseHead h = c.readResponseHead(T, false);
            Recorder r = new Recorder();
            ResponseBody b = c.body(h, false, T, r);
            byte[] buf = new byte[100];
            assertThat(b.read(buf)).isEqualTo(5);
            assertThatThrownBy(() -> b.read(buf)).isInstanceOf(ResponseTimeoutException.class);
            assertThat(r.outcome()).isSameAs(Outcome.BROKEN);
            b.close();
            assertThat(sc.readTimeouts).containsOnly(T);
        }

        @Test
        void resetMidBody() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 10"))
                    .fail(new SocketException("Connection reset"));
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            ResponseHead h = c.readResponseHead(T, false);
            Recorder r = new Recorder();
            ResponseBody b = c.body(h, false, T, r);
            assertThatThrownBy(() -> readAll(b)).isInstanceOf(SocketException.class);
            assertThat(r.outcome()).isSameAs(Outcome.BROKEN);
        }

        @Test
        void closedBeforeAnyResponseByte() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().eof();
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            assertThat(c.responseStarted()).isFalse();
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(HttpProtocolException.class)
                    .hasMessageContaining("before sending any response byte");
            assertThat(c.responseStarted()).isFalse();
        }

        @Test
        void closedMidHead() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data("HTTP/1.1 200 OK\r\nContent-Le").eof();
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(HttpProtocolException.class)
                    .hasMessageContaining("after 27 bytes of a response head");
            assertThat(c.responseStarted()).isTrue();
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(IllegalStateException.class);
        }

        @Test
        void headTimeout() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().stall();
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(ResponseTimeoutException.class);
        }

        @Test
        void switchingProtocolsIsUnsupported() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 101 Switching Protocols",
                    "Upgrade: websocket"));
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(HttpProtocolException.class)
                    .hasMessageContaining("101 Switching Protocols is not supported");
        }

        @Test
        void invalidFramingFailsAtTheHead() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 3",
                    "Transfer-Encoding: chunked"));
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(HttpProtocolException.class)
                    .hasMessageContaining("both Transfer-Encoding and Content-Length");
        }

        @Test
        void headOverTheLimit() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data("HTTP/1.1 200 OK\r\nX: " + "a".repeat(2000));
            Http1Codec c = Http1Codec.of(sc, 1024, Duration.ofSeconds(1), pool);
            c.writeRequest("GET", "/", HOST, null, T);
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(HttpProtocolException.class)
                    .hasMessageContaining("exceeds the limit of 1024 bytes");
        }

        @Test
        void writeFailureRetiresTheConnection() throws Exception {
            ScriptedConnection sc = new ScriptedConnection();
            sc.writeFailure = new SocketException("Broken pipe");
            Http1Codec c = wrap(sc);
            assertThatThrownBy(() -> c.writeRequest("GET", "/", HOST, null, T)).isInstanceOf(SocketException.class);
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(IllegalStateException.class);
            c.closed(); // the pool closes the broken connection
            assertThat(pool.size()).isEqualTo(2);
        }
    }

    @Nested
    class CloseBeforeTheEnd {
        ResponseBody open(ScriptedConnection sc, Recorder r) throws IOException {
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            ResponseHead h = c.readResponseHead(T, false);
            return c.body(h, false, T, r);
        }

        @Test
        void drainsABufferedRemainder() throws Exception {
            Recorder r = new Recorder();
            ResponseBody b = open(new ScriptedConnection().data(OK_HELLO), r);
            assertThat(b.read()).isEqualTo('h');
            assertThat(b.available()).isEqualTo(4);
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
            assertThatThrownBy(b::read).isInstanceOf(IOException.class).hasMessageContaining("closed");
            assertThat(b.trailers()).isSameAs(HeaderFields.EMPTY);
        }

        @Test
        void drainsASmallRemainderThatArrivesQuickly() throws Exception {
            Recorder r = new Recorder();
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 30000"))
                    .data("a".repeat(10000)).data("b".repeat(10000)).data("c".repeat(10000));
            ResponseBody b = open(sc, r);
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(sc.hasUnplayed()).isFalse();
            assertThat(sc.readTimeouts.subList(1, sc.readTimeouts.size()))
                    .allSatisfy(t -> assertThat(t).isLessThanOrEqualTo(Http1Codec.DRAIN_MAX_NANOS));
        }

        @Test
        void drainsAChunkedRemainderAndKeepsItsTrailers() throws Exception {
            Recorder r = new Recorder();
            ScriptedConnection sc = new ScriptedConnection().data(CHUNKED_HELLO, 60, 70, 80);
            ResponseBody b = open(sc, r);
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(b.trailers().first("x-sum")).isEqualTo("42");
        }

        @Test
        void doesNotDrainALargeRemainder() throws Exception {
            Recorder r = new Recorder();
            ScriptedConnection sc = new ScriptedConnection()
                    .data(head("HTTP/1.1 200 OK", "Content-Length: 1000000") + "first bytes");
            ResponseBody b = open(sc, r);
            int reads = sc.readTimeouts.size();
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.NOT_REUSABLE);
            assertThat(sc.readTimeouts).hasSize(reads);
        }

        @Test
        void stopsDrainingAChunkedBodyPastTheByteBudget() throws Exception {
            Recorder r = new Recorder();
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"));
            for (int i = 0; i < 20; i++) {
                sc.data("1000\r\n" + "x".repeat(4096) + "\r\n");
            }
            sc.data("0\r\n\r\n");
            ResponseBody b = open(sc, r);
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.NOT_REUSABLE);
            assertThat(sc.hasUnplayed()).isTrue();
        }

        @Test
        void slowRemainderIsNotReusable() throws Exception {
            Recorder r = new Recorder();
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 10"))
                    .data("123").stall().data("4567890");
            ResponseBody b = open(sc, r);
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }

        @Test
        void truncatedRemainderIsBroken() throws Exception {
            Recorder r = new Recorder();
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 10"))
                    .data("123").eof();
            ResponseBody b = open(sc, r);
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.BROKEN);
        }

        @Test
        void invalidRemainderIsBroken() throws Exception {
            Recorder r = new Recorder();
            ScriptedConnection sc = new ScriptedConnection()
                    .data(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "zz\r\n");
            ResponseBody b = open(sc, r);
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.BROKEN);
        }

        @Test
        void bodyUntilCloseIsNeverDrained() throws Exception {
            Recorder r = new Recorder();
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK") + "abc").eof();
            ResponseBody b = open(sc, r);
            assertThat(b.available()).isEqualTo(3);
            int reads = sc.readTimeouts.size();
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.NOT_REUSABLE);
            assertThat(sc.readTimeouts).hasSize(reads);
        }

        @Test
        void closeAfterTheEndAndDoubleCloseNotifyOnce() throws Exception {
            Recorder r = new Recorder();
            ResponseBody b = open(new ScriptedConnection().data(OK_HELLO), r);
            assertThat(readAll(b)).isEqualTo("hello");
            b.close();
            b.close();
            assertThat(r.calls).containsExactly(Outcome.REUSABLE);
        }

        @Test
        void keepAliveDecisionStillAppliesAfterDraining() throws Exception {
            Recorder r = new Recorder();
            ResponseBody b = open(new ScriptedConnection()
                    .data(head("HTTP/1.1 200 OK", "Content-Length: 3", "Connection: close") + "abc"), r);
            b.close();
            assertThat(r.outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }
    }

    @Nested
    class ExpectContinue {
        final HeaderFields expect = HeaderFields.of("Host", "backend.test", "Expect", "100-continue");
        final byte[] payload = "payload".getBytes(StandardCharsets.US_ASCII);
        final String requestHead = "POST /up HTTP/1.1\r\nHost: backend.test\r\nExpect: 100-continue\r\n"
                + "Content-Length: 7\r\n\r\n";

        @Test
        void bodyIsSentOnContinue() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 100 Continue")).data(OK_HELLO);
            Http1Codec c = wrap(sc);
            c.writeRequest("POST", "/up", expect, RequestBody.of(payload), T);
            assertThat(sc.written()).isEqualTo(requestHead + "payload");
            assertThat(sc.events).containsExactly("write " + requestHead.length(), "read", "write 7");
            ResponseHead h = c.readResponseHead(T, false);
            assertThat(h.statusCode()).isEqualTo(200);
            Recorder r = new Recorder();
            assertThat(readAll(c.body(h, false, T, r))).isEqualTo("hello");
            assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(sc.readTimeouts.get(0)).isLessThanOrEqualTo(Duration.ofMillis(300).toNanos());
        }

        @Test
        void continueAndTheFinalResponseInOneRead() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 100 Continue") + OK_HELLO);
            Http1Codec c = wrap(sc);
            c.writeRequest("POST", "/up", expect, RequestBody.of(payload), T);
            assertThat(sc.written()).endsWith("payload");
            ResponseHead h = c.readResponseHead(T, false);
            Recorder r = new Recorder();
            assertThat(readAll(c.body(h, false, T, r))).isEqualTo("hello");
            assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
        }

        @Test
        void otherInterimResponsesAreSkippedWhileWaiting() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 103 Early Hints", "Link: </s>"))
                    .data(head("HTTP/1.1 100 Continue")).data(OK_HELLO);
            Http1Codec c = wrap(sc);
            c.writeRequest("POST", "/up", expect, RequestBody.of(payload), T);
            assertThat(sc.written()).endsWith("payload");
            assertThat(c.readResponseHead(T, false).statusCode()).isEqualTo(200);
        }

        @Test
        void finalResponseFirstMeansNoBodyAndNoReuse() throws Exception {
            ScriptedConnection sc = new ScriptedConnection()
                    .data(head("HTTP/1.1 417 Expectation Failed", "Content-Length: 4") + "nope");
            Http1Codec c = wrap(sc);
            boolean[] bodyWritten = {false};
            RequestBody body = new RequestBody() {
                @Override
                public long contentLength() {
                    return 7;
                }

                @Override
                public void writeTo(BodySink sink) {
                    bodyWritten[0] = true;
                }
            };
            c.writeRequest("POST", "/up", expect, body, T);
            assertThat(bodyWritten[0]).isFalse();
            assertThat(sc.written()).isEqualTo(requestHead);
            ResponseHead h = c.readResponseHead(T, false);
            assertThat(h.statusCode()).isEqualTo(417);
            Recorder r = new Recorder();
            assertThat(readAll(c.body(h, false, T, r))).isEqualTo("nope");
            assertThat(r.outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }

        @Test
        void bodyIsSentWhenTheServerSaysNothingInTime() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().stall().data(OK_HELLO);
            Http1Codec c = wrap(sc);
            c.writeRequest("POST", "/up", expect, RequestBody.of(payload), T);
            assertThat(sc.written()).isEqualTo(requestHead + "payload");
            ResponseHead h = c.readResponseHead(T, false);
            Recorder r = new Recorder();
            assertThat(readAll(c.body(h, false, T, r))).isEqualTo("hello");
            assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
        }

        @Test
        void partialInterimHeadThenTimeoutStillCompletesLater() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data("HTTP/1.1 100 Cont").stall()
                    .data("inue\r\n\r\n" + OK_HELLO);
            Http1Codec c = wrap(sc);
            c.writeRequest("POST", "/up", expect, RequestBody.of(payload), T);
            assertThat(sc.written()).endsWith("payload");
            assertThat(c.readResponseHead(T, false).statusCode()).isEqualTo(200);
        }

        @Test
        void emptyBodyDoesNotWait() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO);
            Http1Codec c = wrap(sc);
            c.writeRequest("POST", "/up", expect, RequestBody.of(new byte[0]), T);
            assertThat(sc.events).containsExactly("write " + requestHead.length());
        }

        @Test
        void serverClosingWhileWaitingIsAnError() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().eof();
            Http1Codec c = wrap(sc);
            assertThatThrownBy(() -> c.writeRequest("POST", "/up", expect, RequestBody.of(payload), T))
                    .isInstanceOf(HttpProtocolException.class).hasMessageContaining("before sending any response byte");
        }
    }

    @Nested
    class RequestBodies {
        @Test
        void smallFixedBodyGoesOutWithTheHead() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO);
            Http1Codec c = wrap(sc);
            c.writeRequest("POST", "/p", HOST, RequestBody.of("a=1&b=2".getBytes(StandardCharsets.US_ASCII)), T);
            assertThat(sc.writes).isEqualTo(1);
            assertThat(sc.written()).isEqualTo("POST /p HTTP/1.1\r\nHost: backend.test\r\nContent-Length: 7\r\n\r\na=1&b=2");
        }

        @Test
        void largeFixedBodyIsStreamedInBufferSizedWrites() throws Exception {
            byte[] big = new byte[100_000];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) i;
            }
            ScriptedConnection sc = new ScriptedConnection();
            Http1Codec c = wrap(sc);
            c.writeRequest("PUT", "/big", HOST, RequestBody.of(big), T);
            byte[] wire = sc.written().getBytes(StandardCharsets.ISO_8859_1);
            String head = "PUT /big HTTP/1.1\r\nHost: backend.test\r\nContent-Length: 100000\r\n\r\n";
            assertThat(java.util.Arrays.copyOfRange(wire, head.length(), wire.length)).isEqualTo(big);
            assertThat(sc.writes).isEqualTo((head.length() + big.length + BufferPool.BUFFER_SIZE - 1) / BufferPool.BUFFER_SIZE);
        }

        @Test
        void unknownLengthIsSentChunked() throws Exception {
            byte[] big = new byte[50_000];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 7);
            }
            RequestBody body = new RequestBody() {
                @Override
                public long contentLength() {
                    return -1;
                }

                @Override
                public void writeTo(BodySink sink) throws IOException {
                    sink.write(big, 0, 10);
                    sink.write(ByteBuffer.wrap(big, 10, 30_000));
                    sink.write(new byte[0], 0, 0);
                    sink.write(big, 30_010, big.length - 30_010);
                }
            };
            ScriptedConnection sc = new ScriptedConnection();
            Http1Codec c = wrap(sc);
            c.writeRequest("POST", "/stream", HOST, body, T);
            String head = "POST /stream HTTP/1.1\r\nHost: backend.test\r\nTransfer-Encoding: chunked\r\n\r\n";
            assertThat(sc.written()).startsWith(head).endsWith("\r\n0\r\n\r\n");
            byte[] wire = sc.written().getBytes(StandardCharsets.ISO_8859_1);
            ByteBuffer in = ByteBuffer.wrap(wire, head.length(), wire.length - head.length());
            ChunkedDecoder d = new ChunkedDecoder(1024);
            byte[] out = new byte[big.length + 10];
            int got = 0;
            int n;
            while ((n = d.read(in, out, got, out.length - got)) > 0) {
                got += n;
            }
            assertThat(d.isDone()).isTrue();
            assertThat(in.hasRemaining()).isFalse();
            assertThat(java.util.Arrays.copyOf(out, got)).isEqualTo(big);
        }

        @Test
        void emptyChunkedBodyIsJustTheLastChunk() throws Exception {
            RequestBody empty = new RequestBody() {
                @Override
                public long contentLength() {
                    return -1;
                }

                @Override
                public void writeTo(BodySink sink) {
                }
            };
            ScriptedConnection sc = new ScriptedConnection();
            wrap(sc).writeRequest("POST", "/", HOST, empty, T);
            assertThat(sc.written()).isEqualTo("POST / HTTP/1.1\r\nHost: backend.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            assertThat(sc.writes).isEqualTo(1);
        }

        @Test
        void bodyLongerThanDeclaredIsRejected() throws Exception {
            RequestBody liar = fixedBody(3, "four");
            ScriptedConnection sc = new ScriptedConnection();
            Http1Codec c = wrap(sc);
            assertThatThrownBy(() -> c.writeRequest("POST", "/", HOST, liar, T)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("more than its contentLength() of 3 bytes");
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(IllegalStateException.class);
        }

        @Test
        void bodyShorterThanDeclaredIsRejected() {
            ScriptedConnection sc = new ScriptedConnection();
            assertThatThrownBy(() -> wrap(sc).writeRequest("POST", "/", HOST, fixedBody(10, "four"), T))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("wrote 4 bytes but its contentLength() is 10");
            assertThat(sc.written()).isEmpty();
        }

        @Test
        void sinkCannotBeUsedAfterWriteTo() throws Exception {
            BodySink[] kept = new BodySink[1];
            RequestBody body = new RequestBody() {
                @Override
                public long contentLength() {
                    return -1;
                }

                @Override
                public void writeTo(BodySink sink) {
                    kept[0] = sink;
                }
            };
            wrap(new ScriptedConnection()).writeRequest("POST", "/", HOST, body, T);
            assertThatThrownBy(() -> kept[0].write(new byte[1], 0, 1)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("after RequestBody.writeTo returned");
        }

        @Test
        void bodySourceFailurePropagatesAndRetires() {
            RequestBody failing = new RequestBody() {
                @Override
                public long contentLength() {
                    return 5;
                }

                @Override
                public void writeTo(BodySink sink) throws IOException {
                    throw new IOException("disk gone");
                }
            };
            ScriptedConnection sc = new ScriptedConnection();
            Http1Codec c = wrap(sc);
            assertThatThrownBy(() -> c.writeRequest("POST", "/", HOST, failing, T)).hasMessage("disk gone");
            assertThatThrownBy(() -> c.writeRequest("POST", "/", HOST, null, T)).isInstanceOf(IllegalStateException.class);
        }

        RequestBody fixedBody(long declared, String actual) {
            return new RequestBody() {
                @Override
                public long contentLength() {
                    return declared;
                }

                @Override
                public void writeTo(BodySink sink) throws IOException {
                    sink.write(actual.getBytes(StandardCharsets.US_ASCII), 0, actual.length());
                }
            };
        }
    }

    /** {@link Http1Codec#takeArrivedBody}: a small body that came with its head ends the exchange at once. */
    @Nested
    class ArrivedBodies {
        static final int MAX = 16 * 1024;

        /** Writes a GET and reads its head; the body is left to the test. */
        ResponseHead headOf(Http1Codec c, boolean headRequest) throws IOException {
            c.writeRequest(headRequest ? "HEAD" : "GET", "/", HOST, null, T);
            return c.readResponseHead(T, headRequest);
        }

        /** A GET's head read over {@code sc}, and what {@code takeArrivedBody} made of its body. */
        record Taken(Http1Codec codec, ResponseHead head, Recorder recorder, byte[] body) {
            String text() {
                return new String(body, StandardCharsets.ISO_8859_1);
            }

            /** Reads the body left on the connection. */
            String rest() throws IOException {
                return readAll(codec.body(head, false, T, recorder));
            }
        }

        Taken take(ScriptedConnection sc, int maxBytes) throws IOException {
            Http1Codec c = wrap(sc);
            ResponseHead h = headOf(c, false);
            Recorder r = new Recorder();
            return new Taken(c, h, r, c.takeArrivedBody(h, false, maxBytes, r));
        }

        @Test
        void aWholeBodyBehindItsHeadIsTakenAndTheExchangeEndsBeforeTheCallReturns() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO).data(OK_HELLO);
            Taken t = take(sc, MAX);
            assertThat(t.text()).isEqualTo("hello");
            assertThat(t.recorder().outcome()).isSameAs(Outcome.REUSABLE);
            assertThat(sc.readTimeouts).as("one read brought head and body").hasSize(1);
            t.codec().idle();
            assertThat(pool.size()).as("no buffer held after the exchange").isEqualTo(2);
            assertThat(get(t.codec()).body()).as("the next exchange").isEqualTo("hello");
            assertThat(sc.hasUnplayed()).isFalse();
        }

        @Test
        void aBodyStillOnItsWayIsLeftOnTheConnection() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO, OK_HELLO.length() - 2);
            Taken t = take(sc, MAX);
            assertThat(t.body()).isNull();
            assertThat(t.recorder().calls).as("the exchange goes on").isEmpty();
            assertThat(sc.readTimeouts).as("no read to wait for the rest").hasSize(1);
            assertThat(t.rest()).isEqualTo("hello");
            assertThat(t.recorder().outcome()).isSameAs(Outcome.REUSABLE);
        }

        @Test
        void aBodyOverTheLimitIsLeftOnTheConnection() throws Exception {
            Taken over = take(new ScriptedConnection().data(OK_HELLO), 4);
            assertThat(over.body()).isNull();
            assertThat(over.recorder().calls).isEmpty();
            assertThat(over.rest()).isEqualTo("hello");
            assertThat(over.recorder().outcome()).isSameAs(Outcome.REUSABLE);

            Taken atTheLimit = take(new ScriptedConnection().data(OK_HELLO), 5);
            assertThat(atTheLimit.text()).isEqualTo("hello");
            assertThat(atTheLimit.recorder().outcome()).isSameAs(Outcome.REUSABLE);
        }

        @Test
        void chunkedAndUntilCloseBodiesAreLeftOnTheConnection() throws Exception {
            Taken chunked = take(new ScriptedConnection().data(CHUNKED_HELLO), MAX);
            assertThat(chunked.body()).isNull();
            assertThat(chunked.rest()).isEqualTo("hello");
            assertThat(chunked.recorder().outcome()).isSameAs(Outcome.REUSABLE);

            Taken untilClose = take(new ScriptedConnection().data(head("HTTP/1.1 200 OK") + "all").eof(), MAX);
            assertThat(untilClose.body()).isNull();
            assertThat(untilClose.rest()).isEqualTo("all");
            assertThat(untilClose.recorder().outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }

        @Test
        void responsesWithoutABodyAreTakenEmptyWhateverTheLimit() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 204 No Content"))
                    .data(head("HTTP/1.1 200 OK", "Content-Length: 1000"))
                    .data(head("HTTP/1.1 200 OK", "Content-Length: 0"));
            Http1Codec c = wrap(sc);
            for (boolean headRequest : new boolean[] {false, true, false}) {
                ResponseHead h = headOf(c, headRequest);
                Recorder r = new Recorder();
                assertThat(c.takeArrivedBody(h, headRequest, 0, r)).isEmpty();
                assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
            }
            assertThat(sc.hasUnplayed()).isFalse();
        }

        @Test
        void theOutcomeIsDecidedAsAtABodysEnd() throws Exception {
            Taken closing = take(new ScriptedConnection()
                    .data(head("HTTP/1.1 200 OK", "Content-Length: 2", "Connection: close") + "ok"), MAX);
            assertThat(closing.text()).isEqualTo("ok");
            assertThat(closing.recorder().outcome()).isSameAs(Outcome.NOT_REUSABLE);
            assertThatThrownBy(() -> closing.codec().writeRequest("GET", "/", HOST, null, T))
                    .isInstanceOf(IllegalStateException.class);

            Taken hints = take(new ScriptedConnection()
                    .data(head("HTTP/1.1 200 OK", "Content-Length: 2", "Keep-Alive: timeout=7, max=3") + "ok"), MAX);
            assertThat(hints.text()).isEqualTo("ok");
            assertThat(hints.recorder().outcome()).isEqualTo(Outcome.keepAlive(Duration.ofSeconds(7), 3));
        }

        @Test
        void strayBytesBehindTheBodyMakeItNotReusable() throws Exception {
            Taken t = take(new ScriptedConnection().data(OK_HELLO + "HTTP/1.1 200 OK\r\n"), MAX);
            assertThat(t.text()).isEqualTo("hello");
            assertThat(t.recorder().outcome()).isSameAs(Outcome.NOT_REUSABLE);
        }

        @Test
        void misuseIsRefusedAndLeavesTheExchangeAsItWas() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO);
            Http1Codec c = wrap(sc);
            Recorder r = new Recorder();
            ResponseHead other = ResponseHead.of(ResponseHead.Version.HTTP_1_1, 200, "OK", HeaderFields.EMPTY);
            assertThatThrownBy(() -> c.takeArrivedBody(other, false, MAX, r)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("takeArrivedBody() called before writeRequest()");
            ResponseHead h = headOf(c, false);
            assertThatThrownBy(() -> c.takeArrivedBody(other, false, MAX, r)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not the head");
            assertThatThrownBy(() -> c.takeArrivedBody(h, true, MAX, r)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("headRequest");
            assertThatThrownBy(() -> c.takeArrivedBody(h, false, -1, r)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxBytes must not be negative: -1");
            assertThatThrownBy(() -> c.takeArrivedBody(h, false, MAX, null)).isInstanceOf(NullPointerException.class);
            assertThat(r.calls).isEmpty();
            assertThat(new String(c.takeArrivedBody(h, false, MAX, r), StandardCharsets.ISO_8859_1)).isEqualTo("hello");
            assertThatThrownBy(() -> c.body(h, false, T, new Recorder())).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> c.takeArrivedBody(h, false, MAX, new Recorder()))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(r.outcome()).isSameAs(Outcome.REUSABLE);
        }
    }

    @Nested
    class Misuse {
        @Test
        void framingHeadersAreTheConnectionsJob() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO);
            Http1Codec c = wrap(sc);
            assertThatThrownBy(() -> c.writeRequest("POST", "/", HeaderFields.of("Content-Length", "3"), null, T))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("header Content-Length must not be set");
            assertThatThrownBy(() -> c.writeRequest("POST", "/", HeaderFields.of("transfer-encoding", "chunked"), null, T))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("header Transfer-Encoding");
            assertThatThrownBy(() -> c.writeRequest("G T", "/", HOST, null, T))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("method 'G T'");
            assertThatThrownBy(() -> c.writeRequest("GET", "/", HOST, null, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeoutNanos");
            RequestBody bad = new RequestBody() {
                @Override
                public long contentLength() {
                    return -7;
                }

                @Override
                public void writeTo(BodySink sink) {
                }
            };
            assertThatThrownBy(() -> c.writeRequest("POST", "/", HOST, bad, T))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-7");
            assertThat(sc.written()).isEmpty();
            assertThat(pool.size()).isZero();
            // Nothing was written: the connection is still usable.
            assertThat(get(c).body()).isEqualTo("hello");
        }

        @Test
        void callsOutOfOrder() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO).data(OK_HELLO);
            Http1Codec c = wrap(sc);
            assertThatThrownBy(() -> c.readResponseHead(T, false)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("before writeRequest()");
            c.writeRequest("GET", "/", HOST, null, T);
            assertThatThrownBy(() -> c.writeRequest("GET", "/", HOST, null, T)).isInstanceOf(IllegalStateException.class);
            ResponseHead h = c.readResponseHead(T, false);
            ResponseHead other = ResponseHead.of(ResponseHead.Version.HTTP_1_1, 200, "OK", HeaderFields.EMPTY);
            assertThatThrownBy(() -> c.body(other, false, T, o -> { })).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.body(h, true, T, o -> { })).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("headRequest");
            ResponseBody b = c.body(h, false, T, new Recorder());
            assertThatThrownBy(() -> c.writeRequest("GET", "/", HOST, null, T)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("while a response body is open");
            c.idle(); // ignored for the buffers while the body is open
            assertThat(pool.size()).isZero();
            assertThat(readAll(b)).isEqualTo("hello");
            assertThat(get(c).body()).isEqualTo("hello");
        }

        @Test
        void invalidSettings() {
            ScriptedConnection sc = new ScriptedConnection();
            assertThatThrownBy(() -> Http1Codec.of(sc, 100, Duration.ofSeconds(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxHeadSize");
            assertThatThrownBy(() -> Http1Codec.of(sc, 4096, Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expectContinueTimeout");
            assertThatThrownBy(() -> Http1Codec.of(null)).isInstanceOf(NullPointerException.class);
            assertThat(Http1Codec.of(sc, 4096, Duration.ofDays(365_000_000L))).isNotNull();
        }
    }

    @Nested
    class AsTheConnectionsAttachment {
        @Test
        void knowsItsConnectionAndSpeaksOnlyThroughIt() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(OK_HELLO);
            Http1Codec c = Http1Codec.of(sc);
            assertThat(c.connection()).isSameAs(sc);
            assertThat(c.toString()).contains("scripted");
            assertThat(get(c).body()).isEqualTo("hello");
            assertThat(sc.written()).isEqualTo("GET / HTTP/1.1\r\nHost: backend.test\r\n\r\n");
        }

        @Test
        void closedGivesTheBuffersBack() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Connection: close",
                    "Content-Length: 1") + "x");
            Http1Codec c = wrap(sc);
            assertThat(get(c).outcome()).isSameAs(Outcome.NOT_REUSABLE);
            c.closed();
            assertThat(pool.size()).isEqualTo(2);
        }

        @Test
        void aConnectionClosedDuringAnExchangeKeepsItsBuffersUntilTheExchangeEnds() throws Exception {
            ScriptedConnection sc = new ScriptedConnection().data(head("HTTP/1.1 200 OK", "Content-Length: 10000"))
                    .data("later");
            Http1Codec c = wrap(sc);
            c.writeRequest("GET", "/", HOST, null, T);
            ResponseHead h = c.readResponseHead(T, false);
            Recorder r = new Recorder();
            ResponseBody b = c.body(h, false, T, r);
            c.closed(); // e.g. aborted from another thread: the body may still be read here
            assertThat(pool.size()).isZero();
            assertThat(b.read()).isEqualTo('l');
            b.close();
            assertThat(r.outcome()).isNotNull();
            c.closed();
            assertThat(pool.size()).isEqualTo(2);
        }
    }
}
