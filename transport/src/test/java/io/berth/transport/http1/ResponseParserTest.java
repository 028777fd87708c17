package io.berth.transport.http1;

import static io.berth.transport.http1.Wire.bytes;
import static io.berth.transport.http1.Wire.head;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.HttpProtocolException;
import io.berth.transport.http1.Wire.BufferKind;
import io.berth.transport.http1.Wire.HeadResult;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ResponseParserTest {

    /** Valid heads: name, wire text, status, version, reason, header count. */
    static Stream<Arguments> validHeads() {
        return Stream.of(
                Arguments.of("minimal", head("HTTP/1.1 200 OK"), 200, "HTTP/1.1", "OK", 0),
                Arguments.of("no reason, no SP", head("HTTP/1.1 204"), 204, "HTTP/1.1", "", 0),
                Arguments.of("empty reason after SP", head("HTTP/1.1 200 "), 200, "HTTP/1.1", "", 0),
                Arguments.of("HTTP/1.0", head("HTTP/1.0 404 Not Found", "Content-Length: 0"), 404, "HTTP/1.0",
                        "Not Found", 1),
                Arguments.of("uncommon reason", head("HTTP/1.1 299 Quite \tFine Thanks"), 299, "HTTP/1.1",
                        "Quite \tFine Thanks", 0),
                Arguments.of("obs-text reason", head("HTTP/1.1 200 Tr\u00e8s bien"), 200, "HTTP/1.1",
                        "Tr\u00e8s bien", 0),
                Arguments.of("interim 100", head("HTTP/1.1 100 Continue"), 100, "HTTP/1.1", "Continue", 0),
                Arguments.of("status 599", head("HTTP/1.1 599 Custom"), 599, "HTTP/1.1", "Custom", 0),
                Arguments.of("typical", typical(), 200, "HTTP/1.1", "OK", 8),
                Arguments.of("repeated fields", head("HTTP/1.1 200 OK", "Set-Cookie: a=1", "set-cookie: b=2",
                        "Vary: Accept", "Vary: Origin"), 200, "HTTP/1.1", "OK", 4),
                Arguments.of("OWS and empty values", head("HTTP/1.1 200 OK", "X-A:value", "X-B: \t spaced \t ",
                        "X-Empty:", "X-Blank:   ", "X-Inner: a  b\tc"), 200, "HTTP/1.1", "OK", 5),
                Arguments.of("obs-text value", head("HTTP/1.1 200 OK", "X-Name: Andr\u00e9 \u00ff"), 200,
                        "HTTP/1.1", "OK", 1),
                Arguments.of("all tchars in name", head("HTTP/1.1 200 OK", "!#$%&'*+-.^_`|~09azAZ: x"), 200,
                        "HTTP/1.1", "OK", 1),
                Arguments.of("colon in value", head("HTTP/1.1 302 Found", "Location: https://x.test:8443/a?b=c:d"),
                        302, "HTTP/1.1", "Found", 1));
    }

    static String typical() {
        return head("HTTP/1.1 200 OK",
                "Date: Tue, 25 Nov 2026 16:34:00 GMT",
                "Server: nginx",
                "Content-Type: application/json",
                "Content-Length: 100",
                "Connection: keep-alive",
                "Keep-Alive: timeout=5, max=100",
                "Cache-Control: no-cache",
                "X-Request-Id: 5f1c2a9e-3b7d-4c1a-9e2f-0a1b2c3d4e5f");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validHeads")
    void parsesValidHeads(String name, String wire, int status, String version, String reason, int fields) {
        byte[] input = bytes(wire + "BODY");
        HeadResult r = Wire.parse(input, new int[0], BufferKind.HEAP);
        assertThat(r.error()).isNull();
        assertThat(r.end()).isEqualTo(wire.length());
        ResponseHead h = r.head();
        assertThat(h.statusCode()).isEqualTo(status);
        assertThat(h.version()).hasToString(version);
        assertThat(h.reasonPhrase()).isEqualTo(reason);
        assertThat(h.headers().size()).isEqualTo(fields);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validHeads")
    void sameResultSplitAtEveryOffsetAndByteByByte(String name, String wire) {
        byte[] input = bytes(wire + "BODY");
        HeadResult whole = Wire.parse(input, new int[0], BufferKind.HEAP);
        for (BufferKind kind : BufferKind.values()) {
            for (int at = 1; at < input.length; at++) {
                assertThat(Wire.parse(input, Wire.cutAt(at), kind)).as("%s split at %d", kind, at).isEqualTo(whole);
            }
            assertThat(Wire.parse(input, Wire.everyByte(input.length), kind)).as("%s byte by byte", kind)
                    .isEqualTo(whole);
        }
    }

    @Test
    void valuesAreTrimmedAndDecodedAsIso88591() throws Exception {
        ResponseHead h = parse(head("HTTP/1.1 200 OK", "X-B: \t spaced \t ", "X-Empty:", "X-Inner: a  b\tc",
                "X-Name: Andr\u00e9 \u00ff"));
        assertThat(h.headers().first("x-b")).isEqualTo("spaced");
        assertThat(h.headers().first("X-EMPTY")).isEmpty();
        assertThat(h.headers().first("x-inner")).isEqualTo("a  b\tc");
        assertThat(h.headers().first("x-name")).isEqualTo("Andr\u00e9 \u00ff");
    }

    @Test
    void commonNamesAndValuesAreSharedConstants() throws Exception {
        ResponseHead h = parse(head("HTTP/1.1 200 OK", "content-length: 5", "TRANSFER-ENCODING: chunked",
                "Connection: close", "X-Custom: v"));
        assertThat(h.headers().name(0)).isEqualTo("Content-Length");
        assertThat(h.headers().name(1)).isEqualTo("Transfer-Encoding");
        // Shared constants: the same instance whatever response they came from.
        ResponseHead h2 = parse(head("HTTP/1.1 200 OK", "Content-Length: 7", "transfer-encoding: chunked",
                "Connection: close"));
        assertThat(h2.headers().name(0)).isSameAs(h.headers().name(0));
        assertThat(h2.headers().value(1)).isSameAs(h.headers().value(1));
        assertThat(h2.headers().value(2)).isSameAs(h.headers().value(2));
        assertThat(h2.reasonPhrase()).isSameAs(h.reasonPhrase());
        assertThat(h.headers().name(3)).isEqualTo("X-Custom");
    }

    /** Invalid heads: name, wire text, a fragment of the expected message. */
    static Stream<Arguments> invalidHeads() {
        return Stream.of(
                Arguments.of("bare LF after status line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
                        "response status line: bare LF"),
                Arguments.of("bare LF after field", "HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n",
                        "response header line 2: bare LF"),
                Arguments.of("bare LF ending head", "HTTP/1.1 200 OK\r\nA: b\r\n\n",
                        "response header line 3: bare LF"),
                Arguments.of("bare CR in value", "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
                        "response header line 2: bare CR in the value of A"),
                Arguments.of("bare CR ending status line", "HTTP/1.1 200 OK\r\r\n\r\n",
                        "response status line: bare CR in the reason phrase"),
                Arguments.of("bare CR as line end", "HTTP/1.1 200 OK\r\nA: b\rC: d\r\n\r\n",
                        "response header line 2: bare CR in the value of A"),
                Arguments.of("bare CR in name", "HTTP/1.1 200 OK\r\nA\rB: c\r\n\r\n",
                        "response header line 2: bare CR in the field name"),
                Arguments.of("space before colon", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nFoo : bar\r\n\r\n",
                        "response header line 3: whitespace between field name and colon"),
                Arguments.of("tab before colon", "HTTP/1.1 200 OK\r\nTransfer-Encoding\t: chunked\r\n\r\n",
                        "response header line 2: whitespace between field name and colon"),
                Arguments.of("space inside name", "HTTP/1.1 200 OK\r\nFoo Bar: x\r\n\r\n",
                        "response header line 2: invalid character 0x20 (SP) in the field name"),
                Arguments.of("obs-fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
                        "response header line 3: obsolete line folding"),
                Arguments.of("obs-fold with tab", "HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n",
                        "response header line 3: obsolete line folding"),
                Arguments.of("whitespace before first field", "HTTP/1.1 200 OK\r\n A: b\r\n\r\n",
                        "response header line 2: obsolete line folding"),
                Arguments.of("NUL in value", "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n",
                        "response header line 2: invalid character 0x00 (NUL) in the value of A"),
                Arguments.of("NUL in name", "HTTP/1.1 200 OK\r\nA\0: b\r\n\r\n",
                        "response header line 2: invalid character 0x00 (NUL) in the field name"),
                Arguments.of("control char in value", "HTTP/1.1 200 OK\r\nA: b\u0001\r\n\r\n",
                        "invalid character 0x01 in the value of A"),
                Arguments.of("DEL in value", "HTTP/1.1 200 OK\r\nA: b\u007f\r\n\r\n",
                        "invalid character 0x7F in the value of A"),
                Arguments.of("escape in value", "HTTP/1.1 200 OK\r\nA: \u001b[31m\r\n\r\n",
                        "invalid character 0x1B in the value of A"),
                Arguments.of("non-token in name", "HTTP/1.1 200 OK\r\nA(b): c\r\n\r\n",
                        "invalid character 0x28 ('(') in the field name"),
                Arguments.of("obs-text in name", "HTTP/1.1 200 OK\r\nX\u00e9: c\r\n\r\n",
                        "invalid character 0xE9 in the field name"),
                Arguments.of("empty name", "HTTP/1.1 200 OK\r\n: b\r\n\r\n",
                        "response header line 2: empty field name"),
                Arguments.of("no colon", "HTTP/1.1 200 OK\r\nAbc\r\n\r\n",
                        "response header line 2: no colon after the field name"),
                Arguments.of("leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n",
                        "response status line: empty line before the status line"),
                Arguments.of("HTTP/2", "HTTP/2 200\r\n\r\n", "unsupported HTTP version 'HTTP/2'"),
                Arguments.of("HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", "unsupported HTTP version 'HTTP/1.2'"),
                Arguments.of("HTTP/1.10", "HTTP/1.10 200 OK\r\n\r\n", "unsupported HTTP version 'HTTP/1.10'"),
                Arguments.of("HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", "unsupported HTTP version"),
                Arguments.of("lower-case http", "http/1.1 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
                Arguments.of("HTML", "<html><body>hi</body></html>\r\n\r\n", "not an HTTP/1.x status line"),
                Arguments.of("TLS alert", "\u0015\u0003\u0003\u0000\u0002\u0002\u0028\r\n\r\n",
                        "not an HTTP/1.x status line: '\\x15\\x03"),
                Arguments.of("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "status code must be three digits"),
                Arguments.of("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "status code must be three digits"),
                Arguments.of("letters as status", "HTTP/1.1 abc OK\r\n\r\n", "status code must be three digits"),
                Arguments.of("double SP before status", "HTTP/1.1  200 OK\r\n\r\n", "status code must be three digits"),
                Arguments.of("tab before status", "HTTP/1.1\t200 OK\r\n\r\n", "unsupported HTTP version"),
                Arguments.of("status 099", "HTTP/1.1 099 X\r\n\r\n", "status code 99 is out of range 100..599"),
                Arguments.of("status 600", "HTTP/1.1 600 X\r\n\r\n", "status code 600 is out of range 100..599"),
                Arguments.of("no status", "HTTP/1.1\r\n\r\n", "status code must be three digits"),
                Arguments.of("NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n",
                        "response status line: invalid character 0x00 (NUL) in the reason phrase"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidHeads")
    void rejectsInvalidHeadsWithMessageNamingLineAndProblem(String name, String wire, String message) {
        byte[] input = bytes(wire);
        HeadResult whole = Wire.parse(input, new int[0], BufferKind.HEAP);
        assertThat(whole.error()).contains(message);
        for (BufferKind kind : BufferKind.values()) {
            for (int at = 1; at < input.length; at++) {
                assertThat(Wire.parse(input, Wire.cutAt(at), kind)).as("%s split at %d", kind, at).isEqualTo(whole);
            }
            assertThat(Wire.parse(input, Wire.everyByte(input.length), kind)).isEqualTo(whole);
        }
    }

    @Test
    void headExactlyAtTheLimitIsAcceptedOneMoreByteIsNot() {
        int limit = 300;
        String start = "HTTP/1.1 200 OK\r\nX-Fill: ";
        String fill = "a".repeat(limit - start.length() - 4);
        byte[] exact = bytes(start + fill + "\r\n\r\n");
        assertThat(exact).hasSize(limit);
        for (int at = 0; at < exact.length; at += 7) {
            ResponseParser p = new ResponseParser(limit);
            HeadResult r = Wire.parse(p, exact, at == 0 ? new int[0] : Wire.cutAt(at), BufferKind.HEAP);
            assertThat(r.error()).isNull();
            assertThat(p.bufferCapacity()).isLessThanOrEqualTo(limit);
        }
        byte[] over = bytes(start + fill + "a\r\n\r\n");
        for (int at = 0; at < over.length; at += 7) {
            ResponseParser p = new ResponseParser(limit);
            HeadResult r = Wire.parse(p, over, at == 0 ? new int[0] : Wire.cutAt(at), BufferKind.HEAP);
            assertThat(r.error()).isEqualTo("response head exceeds the limit of 300 bytes (in line 3)");
            assertThat(p.bufferCapacity()).isLessThanOrEqualTo(limit);
        }
    }

    @Test
    void endlessLineFailsAtTheLimitWithoutBufferingMore() {
        ResponseParser p = new ResponseParser(1024);
        byte[] chunk = bytes("HTTP/1.1 200 OK\r\nX: " + "b".repeat(100));
        ByteBuffer first = ByteBuffer.wrap(chunk);
        assertThat(parseQuietly(p, first)).isNull();
        byte[] more = bytes("c".repeat(100));
        assertThatThrownBy(() -> {
            for (int i = 0; i < 100; i++) {
                assertThat(p.parse(ByteBuffer.wrap(more))).isNull();
                assertThat(p.bufferCapacity()).isLessThanOrEqualTo(1024);
            }
        }).isInstanceOf(HttpProtocolException.class).hasMessageContaining("exceeds the limit of 1024 bytes");
        assertThat(p.bufferCapacity()).isLessThanOrEqualTo(1024);
    }

    @Test
    void fieldCountLimit() {
        StringBuilder sb = new StringBuilder("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 10; i++) {
            sb.append("X-").append(i).append(": v\r\n");
        }
        String wire = sb.append("\r\n").toString();
        HeadResult ok = Wire.parse(new ResponseParser(4096, 10), bytes(wire), new int[0], BufferKind.HEAP);
        assertThat(ok.head().headers().size()).isEqualTo(10);
        HeadResult tooMany = Wire.parse(new ResponseParser(4096, 9), bytes(wire), new int[0], BufferKind.HEAP);
        assertThat(tooMany.error()).isEqualTo("response header line 11: more than 9 field lines");
    }

    @Test
    void defaultLimitsAre64KiBAnd256Fields() {
        StringBuilder sb = new StringBuilder("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 257; i++) {
            sb.append("X: ").append(i).append("\r\n");
        }
        HeadResult r = Wire.parse(bytes(sb.append("\r\n").toString()), new int[0], BufferKind.HEAP);
        assertThat(r.error()).contains("more than 256 field lines");
        String big = "HTTP/1.1 200 OK\r\nX: " + "v".repeat(64 * 1024) + "\r\n\r\n";
        assertThat(Wire.parse(bytes(big), new int[0], BufferKind.HEAP).error())
                .isEqualTo("response head exceeds the limit of 65536 bytes (in line 2)");
    }

    @Test
    void resetParsesTheNextResponseFromTheSameBuffer() throws Exception {
        ResponseParser p = new ResponseParser(1024);
        ByteBuffer in = ByteBuffer.wrap(bytes(head("HTTP/1.1 100 Continue") + head("HTTP/1.1 200 OK", "A: 1")));
        ResponseHead first = p.parse(in);
        assertThat(first.statusCode()).isEqualTo(100);
        assertThatThrownBy(() -> p.parse(in)).isInstanceOf(IllegalStateException.class);
        p.reset();
        ResponseHead second = p.parse(in);
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.headers().first("a")).isEqualTo("1");
        assertThat(in.hasRemaining()).isFalse();
    }

    @Test
    void aValueRepeatedInTheSamePlaceUnderTheSameNameIsTheSameStringAsBefore() throws Exception {
        ResponseParser p = new ResponseParser(1024);
        ResponseHead first = p.parse(ByteBuffer.wrap(bytes(head("HTTP/1.1 200 OK", "Server: nginx/1.22.1",
                "Date: Wed, 25 Nov 2026 20:00:00 GMT", "X-Id: 1", "X-Seq: 7"))));
        p.reset();
        ResponseHead second = p.parse(ByteBuffer.wrap(bytes(head("HTTP/1.1 200 OK", "server: nginx/1.22.1",
                "Date: Wed, 25 Nov 2026 20:00:01 GMT", "X-Other: 1", "X-Seq: 7"))));
        assertThat(second.headers().first("Server")).isEqualTo("nginx/1.22.1")
                .isSameAs(first.headers().first("Server"));
        assertThat(second.headers().first("Date")).isEqualTo("Wed, 25 Nov 2026 20:00:01 GMT");
        assertThat(second.headers().first("X-Other")).as("another name in that place").isEqualTo("1")
                .isNotSameAs(first.headers().first("X-Id"));
        assertThat(second.headers().first("X-Seq")).isSameAs(first.headers().first("X-Seq"));
        assertThat(second.headers().size()).isEqualTo(4);
        // The first response's fields are untouched by the second parse.
        assertThat(first.headers().first("Date")).isEqualTo("Wed, 25 Nov 2026 20:00:00 GMT");
        assertThat(first.headers().first("X-Id")).isEqualTo("1");
        p.reset();
        ResponseHead third = p.parse(ByteBuffer.wrap(bytes(head("HTTP/1.1 200 OK", "Server: nginx/1.22"))));
        assertThat(third.headers().first("Server")).as("a prefix of the old value").isEqualTo("nginx/1.22");
        assertThat(third.headers().size()).isEqualTo(1);
    }

    @Test
    void resetAfterAnErrorAndAfterAPartialHead() throws Exception {
        ResponseParser p = new ResponseParser(1024);
        assertThatThrownBy(() -> p.parse(ByteBuffer.wrap(bytes("HTTP/3 200\r\n"))))
                .isInstanceOf(HttpProtocolException.class);
        assertThatThrownBy(() -> p.parse(ByteBuffer.wrap(bytes("x")))).isInstanceOf(IllegalStateException.class);
        p.reset();
        assertThat(p.parse(ByteBuffer.wrap(bytes("HTTP/1.1 200 OK\r\nA: partial")))).isNull();
        assertThat(p.started()).isTrue();
        p.reset();
        assertThat(p.started()).isFalse();
        assertThat(p.parse(ByteBuffer.wrap(bytes(head("HTTP/1.1 204 No Content"))))).isNotNull();
    }

    @Test
    void emptyInputConsumesNothingAndReturnsNull() throws Exception {
        ResponseParser p = new ResponseParser(1024);
        assertThat(p.parse(ByteBuffer.allocate(0))).isNull();
        assertThat(p.started()).isFalse();
    }

    @Test
    void limitsBelowTheMinimumAreRejected() {
        assertThatThrownBy(() -> new ResponseParser(15)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxHeadSize");
        assertThatThrownBy(() -> new ResponseParser(1024, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxFields");
    }

    @Test
    void repeatedFieldsKeepOrder() throws Exception {
        ResponseHead h = parse(head("HTTP/1.1 200 OK", "Set-Cookie: a=1", "X: y", "set-cookie: b=2"));
        assertThat(h.headers().values("SET-COOKIE")).isEqualTo(List.of("a=1", "b=2"));
        assertThat(h.headers().name(2)).isEqualTo("Set-Cookie");
    }

    @Test
    void aRepeatedHeadIsTheSameHead() throws Exception {
        for (BufferKind kind : List.of(BufferKind.HEAP, BufferKind.HEAP_OFFSET)) {
            String wire = typical();
            byte[] twice = bytes(wire + "BODY" + wire + "MORE");
            ByteBuffer in = Wire.buffer(twice, 0, twice.length, kind);
            int start = in.position();
            ResponseParser p = new ResponseParser(ResponseParser.DEFAULT_MAX_HEAD_SIZE);
            ResponseHead first = p.parse(in);
            assertThat(in.position() - start).isEqualTo(wire.length());
            in.position(in.position() + 4); // the body
            p.reset();
            ResponseHead second = p.parse(in);
            assertThat(second).as(kind.name()).isSameAs(first);
            assertThat(in.position() - start).isEqualTo(2 * wire.length() + 4);
            assertThatThrownBy(() -> p.parse(in)).as("parsed: reset first").isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aHeadThatDiffersInOneByteIsParsedAgain() throws Exception {
        String ok = head("HTTP/1.1 200 OK", "Connection: other", "Content-Length: 5");
        String[] variants = {
            head("HTTP/1.1 500 OK", "Connection: other", "Content-Length: 5"),
            head("HTTP/1.1 200 OK", "Connection: close", "Content-Length: 5"),
            head("HTTP/1.1 200 OK", "Connection: other", "Content-Length: 6"),
            head("HTTP/1.1 200 OK", "Connection: other", "Content-Length: 5", "X: y"),
        };
        for (String v : variants) {
            ResponseParser p = new ResponseParser(ResponseParser.DEFAULT_MAX_HEAD_SIZE);
            ResponseHead first = p.parse(ByteBuffer.wrap(bytes(ok)));
            p.reset();
            ResponseHead other = p.parse(ByteBuffer.wrap(bytes(v)));
            assertThat(other).as(v).isNotSameAs(first).isEqualTo(parse(v)).isNotEqualTo(first);
        }
    }

    @Test
    void aRepeatedHeadThatArrivesInPiecesIsParsedAndThenRecognised() throws Exception {
        String wire = typical();
        byte[] b = bytes(wire);
        ResponseParser p = new ResponseParser(ResponseParser.DEFAULT_MAX_HEAD_SIZE);
        ResponseHead first = p.parse(ByteBuffer.wrap(b));
        p.reset();
        // Shorter than the head: parsed as usual, carried over, and the same fields come out.
        assertThat(p.parse(ByteBuffer.wrap(b, 0, 40).slice())).isNull();
        ResponseHead split = p.parse(ByteBuffer.wrap(b, 40, b.length - 40).slice());
        assertThat(split).isNotSameAs(first).isEqualTo(first);
        p.reset();
        assertThat(p.parse(ByteBuffer.wrap(b))).as("a head carried over is not kept").isSameAs(first);
        p.reset();
        ByteBuffer direct = Wire.buffer(b, 0, b.length, BufferKind.DIRECT);
        assertThat(p.parse(direct)).as("parsed from a direct buffer").isNotSameAs(first).isEqualTo(first);
    }

    @Test
    void aHeadLongerThanTheRepeatLimitIsParsedEveryTime() throws Exception {
        String wire = head("HTTP/1.1 200 OK", "X-Long: " + "a".repeat(ResponseParser.REPEAT_MAX_BYTES));
        ResponseParser p = new ResponseParser(ResponseParser.DEFAULT_MAX_HEAD_SIZE);
        ResponseHead first = p.parse(ByteBuffer.wrap(bytes(wire)));
        p.reset();
        assertThat(p.parse(ByteBuffer.wrap(bytes(wire)))).isNotSameAs(first).isEqualTo(first);
    }

    private static ResponseHead parse(String wire) throws HttpProtocolException {
        ResponseParser p = new ResponseParser(ResponseParser.DEFAULT_MAX_HEAD_SIZE);
        ResponseHead h = p.parse(ByteBuffer.wrap(bytes(wire)));
        assertThat(h).isNotNull();
        return h;
    }

    private static ResponseHead parseQuietly(ResponseParser p, ByteBuffer in) {
        try {
            return p.parse(in);
        } catch (HttpProtocolException e) {
            throw new AssertionError(e);
        }
    }
}
