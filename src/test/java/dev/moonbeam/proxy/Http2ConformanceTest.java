package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.moonbeam.h2.ErrorCode;
import dev.moonbeam.h2.FrameFlags;
import dev.moonbeam.h2.FrameReader;
import dev.moonbeam.h2.FrameType;
import dev.moonbeam.h2.HpackEncoder;
import dev.moonbeam.h2.Http2Settings;
import dev.moonbeam.tls.TestProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An h2spec-style conformance table for the HTTP/2 server side (RFC 9113, RFC 7541), in the
 * spirit of summerwind/h2spec's generic, http2 and hpack sections. Each case is a fresh
 * connection: preface and SETTINGS exchanged (unless the case is about the preface), then the
 * case's raw frames, then one expected outcome:
 * <ul>
 *   <li>a connection error: GOAWAY with a given code, then the connection closes (§5.4.1);</li>
 *   <li>a stream error: RST_STREAM with a given code on a given stream, and the connection still
 *       answers a PING (§5.4.2);</li>
 *   <li>either of those, where the RFC lets the endpoint choose;</li>
 *   <li>a normal response with a given status;</li>
 *   <li>ignored: no RST_STREAM or GOAWAY, and a PING round trip still works;</li>
 *   <li>a few flow-control and acknowledgement checks of their own.</li>
 * </ul>
 * Cases the current server fails keep their RFC-correct expectation and are listed in
 * {@link #KNOWN_FAILURES}: they run only in the {@code @Disabled} {@link #knownFailure} method, so
 * removing a name from that set is how a fix is proven. Every read is bounded by a socket timeout
 * and a frame count.
 */
@Timeout(60)
class Http2ConformanceTest {
    /**
     * Cases that fail against the current server, by name. Each keeps the RFC's expectation; the
     * comment says what the server does instead and where the fix belongs.
     */
    static final Set<String> KNOWN_FAILURES = Set.of(); // none left: keep the mechanism for the next

    private static final int READ_TIMEOUT_MS = 5000;
    private static final int MAX_FRAMES = 2000;
    private static final int MAX_STREAMS = 8;
    private static final long PING_PAYLOAD = 0x6832_7370_6563_0001L;
    private static final String BODY = "hello, conformance";
    private static final int ES = FrameFlags.END_STREAM;
    private static final int EH = FrameFlags.END_HEADERS;
    private static final int PADDED = FrameFlags.PADDED;
    private static final int PRIO = FrameFlags.PRIORITY;
    private static final int UNKNOWN_TYPE = 0x20;
    /** A GET in static-table indexes (RFC 7541 Appendix A) and one literal, no dynamic-table state. */
    private static final byte[] STATIC_GET = bytes(0x82, 0x87, 0x84, 0x01, 0x01, 'h');

    @TempDir
    static Path dir;
    private static TestBackend backend;
    private static ProxyHarness proxy;

    @BeforeAll
    static void start() throws Exception {
        TestProvider.JDK.assumeAvailable();
        backend = new TestBackend("conformance", (request, in, out, socket) -> {
            if (request.target().startsWith("/slow")) {
                try {
                    Thread.sleep(1500); // keeps the stream half-closed (remote) while the case runs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            TestBackend.respond(out, 200, BODY);
        });
        proxy = ProxyHarness.start(dir, 1, "[\"" + backend.address() + "\"]",
                "\"ssl\": {\"provider\": \"jdk\", \"cert_file\": \"" + TlsEndToEndTest.fixture("ec.crt")
                        + "\", \"key_file\": \"" + TlsEndToEndTest.fixture("ec-sec1.key")
                        + "\"}, \"http2\": {\"enabled\": true, \"max_concurrent_streams\": " + MAX_STREAMS + "}");
    }

    @AfterAll
    static void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("passingCases")
    void conforms(Case c) throws Exception {
        run(c);
    }

    @Disabled("known failures of the current server; each keeps its RFC-correct expectation (see KNOWN_FAILURES)")
    @ParameterizedTest(name = "{0}")
    @MethodSource("knownFailures")
    void knownFailure(Case c) throws Exception {
        run(c);
    }

    @Test
    void theTableIsLargeItsNamesUniqueAndEveryKnownFailureIsInIt() {
        List<String> names = cases().map(Case::toString).toList();
        assertThat(names).hasSizeGreaterThanOrEqualTo(60).doesNotHaveDuplicates();
        assertThat(names).containsAll(KNOWN_FAILURES);
    }

    static Stream<Case> passingCases() {
        return cases().filter(c -> !KNOWN_FAILURES.contains(c.toString()));
    }

    static Stream<Case> knownFailures() {
        return cases().filter(c -> KNOWN_FAILURES.contains(c.toString()));
    }

    private static void run(Case c) throws Exception {
        try (H2TestClient client = new H2TestClient(proxy.port(), c.handshake())) {
            client.tls.socket.setSoTimeout(READ_TIMEOUT_MS);
            Wire w = new Wire(client);
            if (c.handshake()) {
                w.handshake();
            }
            c.script().run(w);
            w.send();
            c.outcome().verify(w);
        }
    }

    // ---- the table ----

    static Stream<Case> cases() {
        return Stream.of(preface(), frameFormat(), fieldBlocks(), streamStates(), priorityAndExtensions(),
                dataAndHeaders(), priorityRstSettings(), pingGoAwayWindow(), flowControl(), continuation(),
                messages(), hpack()).flatMap(List::stream);
    }

    /** RFC 9113 §3.4. */
    private static List<Case> preface() {
        return List.of(
                raw("RFC 9113 §3.4: invalid connection preface", w -> w.raw(ascii("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"))
                        .settings(), goAway(ErrorCode.PROTOCOL_ERROR)),
                raw("RFC 9113 §3.4: an HTTP/1.1 request instead of the preface",
                        w -> w.raw(ascii("GET / HTTP/1.1\r\nHost: h\r\n\r\n")), goAway(ErrorCode.PROTOCOL_ERROR)),
                raw("RFC 9113 §3.4: preface followed by PING instead of SETTINGS",
                        w -> w.preface().ping(0, 1), goAway(ErrorCode.PROTOCOL_ERROR)),
                raw("RFC 9113 §3.4: preface followed by a SETTINGS ACK instead of SETTINGS",
                        w -> w.preface().frame(FrameType.SETTINGS, FrameFlags.ACK, 0, new byte[0]),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                raw("RFC 9113 §3.4: preface and an empty SETTINGS frame start the connection",
                        w -> w.preface().settings(), ignored()));
    }

    /** RFC 9113 §4.1, §4.2. */
    private static List<Case> frameFormat() {
        return List.of(
                c("RFC 9113 §4.1: unknown frame type on stream 0",
                        w -> w.frame(UNKNOWN_TYPE, 0, 0, bytes(1, 2, 3, 4)), ignored()),
                c("RFC 9113 §4.1: PING with undefined flags is answered",
                        w -> w.frame(FrameType.PING, 0xFE, 0, long8(0x0102030405060708L)), pingAck(0x0102030405060708L)),
                c("RFC 9113 §4.1: reserved bit set in a PING frame header",
                        w -> w.frame(FrameType.PING, 0, 0x8000_0000, long8(0x1111L)), pingAck(0x1111L)),
                c("RFC 9113 §4.1: reserved bit set in a HEADERS stream id",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 0x8000_0001, w.block(get())), status(1, 200)),
                c("RFC 9113 §4.1: undefined flags on HEADERS",
                        w -> w.frame(FrameType.HEADERS, ES | EH | 0x02 | 0x10 | 0x40 | 0x80, 1, w.block(get())),
                        status(1, 200)),
                c("RFC 9113 §4.1: undefined flags on DATA",
                        w -> w.headers(1, EH, post("content-length", "2")).frame(FrameType.DATA, 0xF7, 1, ascii("ok")),
                        status(1, 200)),
                c("RFC 9113 §4.2: DATA of exactly SETTINGS_MAX_FRAME_SIZE (16384)",
                        w -> w.headers(1, EH, post("content-length", "16384")).data(1, ES, new byte[16384]),
                        status(1, 200)),
                c("RFC 9113 §4.2: DATA larger than SETTINGS_MAX_FRAME_SIZE",
                        w -> w.headers(1, EH, post()).data(1, ES, new byte[16385]),
                        resetOrGoAway(1, ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §4.2: HEADERS larger than SETTINGS_MAX_FRAME_SIZE",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, new byte[16385]), goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §4.2: SETTINGS larger than SETTINGS_MAX_FRAME_SIZE",
                        w -> w.frame(FrameType.SETTINGS, 0, 0, unknownSettings(2731)), goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §4.2: HEADERS with PRIORITY flag too short for its fields",
                        w -> w.frame(FrameType.HEADERS, ES | EH | PRIO, 1, bytes(0, 0, 0, 0)),
                        goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §4.2: padded DATA too short for its Pad Length",
                        w -> w.headers(1, EH, post()).frame(FrameType.DATA, PADDED, 1, new byte[0]),
                        resetOrGoAway(1, ErrorCode.FRAME_SIZE_ERROR)));
    }

    /** RFC 9113 §4.3 and the CONTINUATION rules of §6.10 that protect a field block. */
    private static List<Case> fieldBlocks() {
        return List.of(
                c("RFC 9113 §4.3: field block split over HEADERS and CONTINUATION", w -> {
                    byte[] block = w.block(get());
                    int half = block.length / 2;
                    w.frame(FrameType.HEADERS, ES, 1, slice(block, 0, half))
                            .frame(FrameType.CONTINUATION, EH, 1, slice(block, half, block.length));
                }, status(1, 200)),
                c("RFC 9113 §4.3: field block over HEADERS and three CONTINUATION, one empty", w -> {
                    byte[] block = w.block(get("x-a", "1", "x-b", "2"));
                    w.frame(FrameType.HEADERS, ES, 1, slice(block, 0, 3))
                            .frame(FrameType.CONTINUATION, 0, 1, slice(block, 3, 6))
                            .frame(FrameType.CONTINUATION, 0, 1, new byte[0])
                            .frame(FrameType.CONTINUATION, EH, 1, slice(block, 6, block.length));
                }, status(1, 200)),
                c("RFC 9113 §4.3: undecodable field block (string past its end)",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0x00, 0x05, 'x'))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 9113 §4.3: PRIORITY inside a field block",
                        w -> w.frame(FrameType.HEADERS, ES, 1, STATIC_GET).priority(1, 0, 16)
                                .frame(FrameType.CONTINUATION, EH, 1, new byte[0]),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §4.3: HEADERS of another stream inside a field block",
                        w -> w.frame(FrameType.HEADERS, ES, 1, STATIC_GET).frame(FrameType.HEADERS, ES | EH, 3, STATIC_GET)
                                .frame(FrameType.CONTINUATION, EH, 1, new byte[0]),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §4.3: DATA inside a field block",
                        w -> w.frame(FrameType.HEADERS, 0, 1, STATIC_GET).data(1, ES, ascii("x"))
                                .frame(FrameType.CONTINUATION, EH, 1, new byte[0]),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §4.3: PING inside a field block",
                        w -> w.frame(FrameType.HEADERS, ES, 1, STATIC_GET).ping(0, 7)
                                .frame(FrameType.CONTINUATION, EH, 1, new byte[0]),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.5: unknown extension frame inside a field block",
                        w -> w.frame(FrameType.HEADERS, ES, 1, STATIC_GET).frame(UNKNOWN_TYPE, 0, 1, bytes(1))
                                .frame(FrameType.CONTINUATION, EH, 1, new byte[0]),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.10: CONTINUATION on another stream than its HEADERS",
                        w -> w.frame(FrameType.HEADERS, ES, 1, STATIC_GET).frame(FrameType.CONTINUATION, EH, 3, new byte[0]),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §4.3: a refused stream's field block still updates the HPACK context", w -> {
                    // Stream 1 depends on itself (a stream error), but its block inserts x-kept into
                    // the dynamic table; stream 3 refers to that entry by index.
                    w.frame(FrameType.HEADERS, ES | EH | PRIO, 1, prioritized(1, 16, w.block(get("x-kept", "yes"))));
                    w.headers(3, ES | EH, get("x-kept", "yes"));
                }, both(reset(1, ErrorCode.PROTOCOL_ERROR), status(3, 200))));
    }

    /** RFC 9113 §5.1, §5.1.1, §5.1.2. */
    private static List<Case> streamStates() {
        return List.of(
                c("RFC 9113 §5.1 idle: DATA", w -> w.data(1, ES, ascii("x")), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.1 idle: RST_STREAM", w -> w.rst(1, ErrorCode.CANCEL), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.1 idle: WINDOW_UPDATE", w -> w.windowUpdate(1, 100), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.1 idle: CONTINUATION",
                        w -> w.frame(FrameType.CONTINUATION, EH, 1, STATIC_GET), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.1 half-closed (remote): DATA",
                        w -> w.headers(1, ES | EH, get(":path", "/slow")).data(1, ES, ascii("x")),
                        reset(1, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1 half-closed (remote): HEADERS",
                        w -> w.headers(1, ES | EH, get(":path", "/slow")).headers(1, ES | EH, fields("x-late", "1")),
                        reset(1, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1 half-closed (remote): CONTINUATION",
                        w -> w.headers(1, ES | EH, get(":path", "/slow")).frame(FrameType.CONTINUATION, EH, 1, STATIC_GET),
                        goAway(ErrorCode.PROTOCOL_ERROR, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1 half-closed (remote): WINDOW_UPDATE is allowed",
                        w -> w.headers(1, ES | EH, get(":path", "/slow")).windowUpdate(1, 1000), ignored()),
                c("RFC 9113 §5.1 closed after RST_STREAM: DATA",
                        w -> w.headers(1, EH, post()).rst(1, ErrorCode.CANCEL).data(1, ES, ascii("x")),
                        resetOrGoAway(1, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1 closed after RST_STREAM: HEADERS",
                        w -> w.headers(1, EH, post()).rst(1, ErrorCode.CANCEL).headers(1, ES | EH, fields("x-late", "1")),
                        resetOrGoAway(1, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1 closed after END_STREAM both ways: DATA",
                        w -> w.headers(1, ES | EH, get()).awaitResponse(1).data(1, ES, ascii("x")),
                        resetOrGoAway(1, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1 closed after END_STREAM both ways: HEADERS",
                        w -> w.headers(1, ES | EH, get()).awaitResponse(1).headers(1, ES | EH, get()),
                        resetOrGoAway(1, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1 closed: CONTINUATION",
                        w -> w.headers(1, ES | EH, get()).awaitResponse(1).frame(FrameType.CONTINUATION, EH, 1, STATIC_GET),
                        goAway(ErrorCode.PROTOCOL_ERROR, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1 closed: PRIORITY is allowed",
                        w -> w.headers(1, ES | EH, get()).awaitResponse(1).priority(1, 0, 16), ignored()),
                c("RFC 9113 §5.1 closed: WINDOW_UPDATE is ignored",
                        w -> w.headers(1, ES | EH, get()).awaitResponse(1).windowUpdate(1, 1000), ignored()),
                c("RFC 9113 §5.1 closed: RST_STREAM is ignored",
                        w -> w.headers(1, ES | EH, get()).awaitResponse(1).rst(1, ErrorCode.CANCEL), ignored()),
                c("RFC 9113 §5.1.1: HEADERS on an even stream id",
                        w -> w.headers(2, ES | EH, get()), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.1.1: stream id lower than one already opened",
                        w -> w.headers(5, ES | EH, get()).headers(3, ES | EH, get()), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.1.1: stream id of a closed stream reused",
                        w -> w.headers(1, ES | EH, get()).awaitResponse(1).headers(1, ES | EH, get()),
                        goAway(ErrorCode.PROTOCOL_ERROR, ErrorCode.STREAM_CLOSED)),
                c("RFC 9113 §5.1.2: a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS", w -> {
                    for (int i = 0; i < MAX_STREAMS; i++) {
                        w.headers(1 + 2 * i, EH, post());
                    }
                    w.headers(1 + 2 * MAX_STREAMS, EH, post());
                }, reset(1 + 2 * MAX_STREAMS, ErrorCode.REFUSED_STREAM, ErrorCode.PROTOCOL_ERROR)));
    }

    /** RFC 9113 §5.3, §5.5. */
    private static List<Case> priorityAndExtensions() {
        return List.of(
                c("RFC 9113 §5.3.1: HEADERS that depends on its own stream",
                        w -> w.frame(FrameType.HEADERS, ES | EH | PRIO, 1, prioritized(1, 16, w.block(get()))),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.3.1: PRIORITY that depends on its own stream",
                        w -> w.priority(1, 1, 16), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §5.3.2: PRIORITY on an idle stream, then a request on it",
                        w -> w.priority(1, 0, 16).headers(1, ES | EH, get()), status(1, 200)),
                c("RFC 9113 §5.3.2: PRIORITY on a higher idle stream does not close lower ones",
                        w -> w.priority(9, 0, 16).headers(1, ES | EH, get()), status(1, 200)),
                c("RFC 9113 §5.5: unknown frame type on an idle stream",
                        w -> w.frame(UNKNOWN_TYPE, 0xFF, 1, bytes(1, 2, 3)), ignored()),
                c("RFC 9113 §5.5: unknown frame type in the middle of a stream",
                        w -> w.headers(1, EH, post("content-length", "2")).frame(UNKNOWN_TYPE, 0, 1, bytes(9))
                                .data(1, ES, ascii("ok")),
                        status(1, 200)));
    }

    /** RFC 9113 §6.1, §6.2. */
    private static List<Case> dataAndHeaders() {
        return List.of(
                c("RFC 9113 §6.1: DATA on stream 0", w -> w.data(0, ES, ascii("x")), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.1: DATA whose padding fills the payload",
                        w -> w.headers(1, EH, post()).frame(FrameType.DATA, PADDED | ES, 1, bytes(5, 0, 0, 0, 0)),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.1: padded DATA is accepted",
                        w -> w.headers(1, EH, post("content-length", "5"))
                                .frame(FrameType.DATA, PADDED | ES, 1, padded(ascii("hello"), 10)),
                        status(1, 200)),
                c("RFC 9113 §6.2: HEADERS on stream 0",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 0, STATIC_GET), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.2: HEADERS whose padding exceeds the payload",
                        w -> w.frame(FrameType.HEADERS, ES | EH | PADDED, 1, concat(bytes(STATIC_GET.length + 1), STATIC_GET)),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.2: padded HEADERS are accepted",
                        w -> w.frame(FrameType.HEADERS, ES | EH | PADDED, 1, padded(w.block(get()), 8)), status(1, 200)),
                c("RFC 9113 §6.2: HEADERS with priority fields are accepted",
                        w -> w.frame(FrameType.HEADERS, ES | EH | PRIO, 1, prioritized(0, 200, w.block(get()))),
                        status(1, 200)),
                c("RFC 9113 §6.2: HEADERS padded and with priority fields are accepted",
                        w -> w.frame(FrameType.HEADERS, ES | EH | PRIO | PADDED, 1,
                                padded(prioritized(0, 1, w.block(get())), 3)),
                        status(1, 200)));
    }

    /** RFC 9113 §6.3, §6.4, §6.5. */
    private static List<Case> priorityRstSettings() {
        return List.of(
                c("RFC 9113 §6.3: PRIORITY on stream 0", w -> w.frame(FrameType.PRIORITY, 0, 0, bytes(0, 0, 0, 1, 16)),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.3: PRIORITY of length 4",
                        w -> w.frame(FrameType.PRIORITY, 0, 1, bytes(0, 0, 0, 3)), reset(1, ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §6.4: RST_STREAM on stream 0", w -> w.frame(FrameType.RST_STREAM, 0, 0, int4(8)),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.4: RST_STREAM of length 3",
                        w -> w.headers(1, EH, post()).frame(FrameType.RST_STREAM, 0, 1, bytes(0, 0, 8)),
                        goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §6.4: RST_STREAM closes an open stream and the connection goes on",
                        w -> w.headers(1, EH, post()).rst(1, ErrorCode.CANCEL), ignored()),
                c("RFC 9113 §6.5: SETTINGS ACK with a payload",
                        w -> w.frame(FrameType.SETTINGS, FrameFlags.ACK, 0, setting(Http2Settings.ENABLE_PUSH, 0)),
                        goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §6.5: SETTINGS on a stream",
                        w -> w.frame(FrameType.SETTINGS, 0, 1, setting(Http2Settings.ENABLE_PUSH, 0)),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.5: SETTINGS length not a multiple of 6",
                        w -> w.frame(FrameType.SETTINGS, 0, 0, bytes(0, 3, 0, 0, 0)), goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §6.5.2: SETTINGS_ENABLE_PUSH of 2",
                        w -> w.settings(Http2Settings.ENABLE_PUSH, 2), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.5.2: SETTINGS_ENABLE_PUSH of 1 from a client is legal",
                        w -> w.settings(Http2Settings.ENABLE_PUSH, 1), settingsAcked()),
                c("RFC 9113 §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE of 2^31",
                        w -> w.settings(Http2Settings.INITIAL_WINDOW_SIZE, 1L << 31), goAway(ErrorCode.FLOW_CONTROL_ERROR)),
                c("RFC 9113 §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE of 2^32-1",
                        w -> w.settings(Http2Settings.INITIAL_WINDOW_SIZE, 0xFFFF_FFFFL), goAway(ErrorCode.FLOW_CONTROL_ERROR)),
                c("RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE below 2^14",
                        w -> w.settings(Http2Settings.MAX_FRAME_SIZE, 16383), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.5.2: SETTINGS_MAX_FRAME_SIZE above 2^24-1",
                        w -> w.settings(Http2Settings.MAX_FRAME_SIZE, 1 << 24), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.5.2: unknown SETTINGS identifier is ignored",
                        w -> w.settings(0xFF, 12345), settingsAcked()),
                c("RFC 9113 §6.5.3: SETTINGS are acknowledged",
                        w -> w.settings(Http2Settings.MAX_CONCURRENT_STREAMS, 100, Http2Settings.HEADER_TABLE_SIZE, 0),
                        settingsAcked()),
                c("RFC 9113 §6.5.3: of repeated values in one SETTINGS the last applies", w -> {
                    w.client.autoWindowUpdate = false;
                    w.settings(Http2Settings.INITIAL_WINDOW_SIZE, 100, Http2Settings.INITIAL_WINDOW_SIZE, 1)
                            .headers(1, ES | EH, get());
                }, firstData(1, 1)),
                c("RFC 9113 §6.5.2: SETTINGS_HEADER_TABLE_SIZE 0 is honoured by the response encoder",
                        w -> w.settings(Http2Settings.HEADER_TABLE_SIZE, 0).headers(1, ES | EH, get()), status(1, 200)));
    }

    /** RFC 9113 §6.7, §6.8, §6.9. */
    private static List<Case> pingGoAwayWindow() {
        return List.of(
                c("RFC 9113 §6.7: PING is answered with ACK and the same payload",
                        w -> w.ping(0, 0x0A0B0C0D0E0F0102L), pingAck(0x0A0B0C0D0E0F0102L)),
                c("RFC 9113 §6.7: a PING ACK is not answered",
                        w -> w.ping(FrameFlags.ACK, 0x1111L).ping(0, 0x2222L), firstPing(0x2222L)),
                c("RFC 9113 §6.7: PING on a stream",
                        w -> w.frame(FrameType.PING, 0, 1, long8(1)), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.7: PING of length 6",
                        w -> w.frame(FrameType.PING, 0, 0, new byte[6]), goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §6.8: GOAWAY on a stream",
                        w -> w.frame(FrameType.GOAWAY, 0, 1, concat(int4(0), int4(0))), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.8: GOAWAY shorter than 8 octets",
                        w -> w.frame(FrameType.GOAWAY, 0, 0, int4(0)), goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §6.9: WINDOW_UPDATE of 0 on the connection",
                        w -> w.windowUpdate(0, 0), goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.9: WINDOW_UPDATE of 0 on a stream",
                        w -> w.headers(1, EH, post()).windowUpdate(1, 0), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.9: WINDOW_UPDATE of length 3",
                        w -> w.frame(FrameType.WINDOW_UPDATE, 0, 0, bytes(0, 0, 1)), goAway(ErrorCode.FRAME_SIZE_ERROR)),
                c("RFC 9113 §6.9: WINDOW_UPDATE with the reserved bit set is accepted",
                        w -> w.frame(FrameType.WINDOW_UPDATE, 0, 0, int4(0x8000_0001)), ignored()),
                c("RFC 9113 §6.9.1: WINDOW_UPDATE overflows the connection window",
                        w -> w.windowUpdate(0, 0x7FFF_FFFF), goAway(ErrorCode.FLOW_CONTROL_ERROR)),
                c("RFC 9113 §6.9.1: two WINDOW_UPDATE frames overflow the connection window",
                        w -> w.windowUpdate(0, 1 << 30).windowUpdate(0, 1 << 30), goAway(ErrorCode.FLOW_CONTROL_ERROR)),
                c("RFC 9113 §6.9.1: WINDOW_UPDATE overflows a stream window",
                        w -> w.headers(1, EH, post()).windowUpdate(1, 0x7FFF_FFFF), reset(1, ErrorCode.FLOW_CONTROL_ERROR)));
    }

    /** RFC 9113 §6.9.1, §6.9.2: what the server sends within the windows it was given. */
    private static List<Case> flowControl() {
        return List.of(
                c("RFC 9113 §6.9.1: SETTINGS_INITIAL_WINDOW_SIZE 1 allows one octet of DATA", w -> {
                    w.client.autoWindowUpdate = false;
                    w.settings(Http2Settings.INITIAL_WINDOW_SIZE, 1).headers(1, ES | EH, get());
                }, firstData(1, 1)),
                c("RFC 9113 §6.9.2: window 0 holds DATA back until a WINDOW_UPDATE", w -> {
                    w.client.autoWindowUpdate = false;
                    w.settings(Http2Settings.INITIAL_WINDOW_SIZE, 0).headers(1, ES | EH, get());
                }, heldUntil(1, w -> w.windowUpdate(1, 5), 5)),
                c("RFC 9113 §6.9.2: a SETTINGS_INITIAL_WINDOW_SIZE change applies to open streams", w -> {
                    w.client.autoWindowUpdate = false;
                    w.settings(Http2Settings.INITIAL_WINDOW_SIZE, 0).headers(1, ES | EH, get());
                }, heldUntil(1, w -> w.settings(Http2Settings.INITIAL_WINDOW_SIZE, 3), 3)),
                c("RFC 9113 §6.9.2: a SETTINGS_INITIAL_WINDOW_SIZE change overflows a stream window",
                        w -> w.headers(1, EH, post()).windowUpdate(1, 0x7FFF_FFFF - 65_535)
                                .settings(Http2Settings.INITIAL_WINDOW_SIZE, 65_536),
                        goAway(ErrorCode.FLOW_CONTROL_ERROR)));
    }

    /** RFC 9113 §6.10. */
    private static List<Case> continuation() {
        return List.of(
                c("RFC 9113 §6.10: CONTINUATION on stream 0",
                        w -> w.frame(FrameType.HEADERS, ES, 1, STATIC_GET).frame(FrameType.CONTINUATION, EH, 0, new byte[0]),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.10: CONTINUATION after HEADERS with END_HEADERS",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, STATIC_GET).frame(FrameType.CONTINUATION, EH, 1, bytes(0x82)),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.10: CONTINUATION after CONTINUATION with END_HEADERS",
                        w -> w.frame(FrameType.HEADERS, ES, 1, STATIC_GET).frame(FrameType.CONTINUATION, EH, 1, new byte[0])
                                .frame(FrameType.CONTINUATION, EH, 1, bytes(0x82)),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §6.10: CONTINUATION after DATA",
                        w -> w.headers(1, EH, post()).data(1, 0, ascii("x")).frame(FrameType.CONTINUATION, EH, 1, bytes(0x82)),
                        goAway(ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.4: PUSH_PROMISE from a client",
                        w -> w.frame(FrameType.PUSH_PROMISE, EH, 1, concat(int4(2), STATIC_GET)),
                        goAway(ErrorCode.PROTOCOL_ERROR)));
    }

    /** RFC 9113 §8.1, §8.2, §8.3: malformed requests are stream errors of type PROTOCOL_ERROR (§8.1.1). */
    private static List<Case> messages() {
        List<Case> list = new ArrayList<>(List.of(
                c("RFC 9113 §8.1: a GET is answered", w -> w.headers(1, ES | EH, get()), status(1, 200)),
                c("RFC 9113 §8.1: a POST with a body in two DATA frames is answered",
                        w -> w.headers(1, EH, post("content-length", "4")).data(1, 0, ascii("ab")).data(1, ES, ascii("cd")),
                        status(1, 200)),
                c("RFC 9113 §8.1: trailers ending the stream are accepted",
                        w -> w.headers(1, EH, post()).data(1, 0, ascii("abc")).headers(1, ES | EH, fields("x-trailer", "t")),
                        status(1, 200)),
                c("RFC 9113 §8.1: trailers without END_STREAM",
                        w -> w.headers(1, EH, post()).data(1, 0, ascii("abc")).headers(1, EH, fields("x-trailer", "t")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.1: trailers containing a pseudo-header field",
                        w -> w.headers(1, EH, post()).data(1, 0, ascii("abc")).headers(1, ES | EH, fields(":method", "GET")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.1: uppercase field name in trailers",
                        w -> w.headers(1, EH, post()).data(1, 0, ascii("abc")).headers(1, ES | EH, fields("X-Trailer", "t")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.2: connection-specific field in trailers",
                        w -> w.headers(1, EH, post()).data(1, 0, ascii("abc")).headers(1, ES | EH, fields("connection", "close")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.1.1: DATA longer than content-length",
                        w -> w.headers(1, EH, post("content-length", "3")).data(1, ES, ascii("123456")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.1.1: DATA shorter than content-length",
                        w -> w.headers(1, EH, post("content-length", "3")).data(1, ES, ascii("12")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.1.1: several DATA frames exceed content-length",
                        w -> w.headers(1, EH, post("content-length", "4")).data(1, 0, ascii("12")).data(1, 0, ascii("34"))
                                .data(1, ES, ascii("5")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.1.1: HEADERS with END_STREAM and a non-zero content-length",
                        w -> w.headers(1, ES | EH, post("content-length", "5")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.1: uppercase field name", w -> w.headers(1, ES | EH, get("X-Upper", "1")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.1: field name with a space", w -> w.headers(1, ES | EH, get("x y", "1")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.1: field name with a colon inside", w -> w.headers(1, ES | EH, get("x:y", "1")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.1: field value with CR LF", w -> w.headers(1, ES | EH, get("x-a", "1\r\nx-b: 2")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.1: field value with NUL", w -> w.headers(1, ES | EH, get("x-a", "1\u00002")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.1: field value with leading whitespace", w -> w.headers(1, ES | EH, get("x-a", " 1")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.2: te other than trailers", w -> w.headers(1, ES | EH, get("te", "gzip")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.2.2: te: trailers is accepted", w -> w.headers(1, ES | EH, get("te", "trailers")),
                        status(1, 200)),
                c("RFC 9113 §8.2.3: split cookie fields are accepted",
                        w -> w.headers(1, ES | EH, get("cookie", "a=1", "cookie", "b=2")), status(1, 200)),
                c("RFC 9113 §8.3: unknown pseudo-header field", w -> w.headers(1, ES | EH, get(":foo", "bar")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3: response pseudo-header field in a request",
                        w -> w.headers(1, ES | EH, get(":status", "200")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3: pseudo-header field after a regular field",
                        w -> w.headers(1, ES | EH, fields(":method", "GET", ":scheme", "https", "x-a", "1", ":path", "/")),
                        reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3.1: empty :path", w -> w.headers(1, ES | EH, fields(":method", "GET", ":scheme", "https",
                        ":path", "", ":authority", "h2.test")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3.1: missing :method", w -> w.headers(1, ES | EH, fields(":scheme", "https", ":path", "/",
                        ":authority", "h2.test")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3.1: missing :scheme", w -> w.headers(1, ES | EH, fields(":method", "GET", ":path", "/",
                        ":authority", "h2.test")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3.1: missing :path", w -> w.headers(1, ES | EH, fields(":method", "GET", ":scheme", "https",
                        ":authority", "h2.test")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3.1: duplicated :method", w -> w.headers(1, ES | EH, fields(":method", "GET", ":method", "GET",
                        ":scheme", "https", ":path", "/")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3.1: duplicated :scheme", w -> w.headers(1, ES | EH, fields(":method", "GET", ":scheme", "https",
                        ":scheme", "https", ":path", "/")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3.1: duplicated :path", w -> w.headers(1, ES | EH, fields(":method", "GET", ":scheme", "https",
                        ":path", "/", ":path", "/")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.3.1: duplicated :authority", w -> w.headers(1, ES | EH, fields(":method", "GET", ":scheme",
                        "https", ":path", "/", ":authority", "a", ":authority", "a")), reset(1, ErrorCode.PROTOCOL_ERROR)),
                c("RFC 9113 §8.5: CONNECT with :path", w -> w.headers(1, ES | EH, fields(":method", "CONNECT",
                        ":authority", "h2.test:443", ":path", "/")), reset(1, ErrorCode.PROTOCOL_ERROR))));
        for (String field : List.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade")) {
            list.add(c("RFC 9113 §8.2.2: connection-specific field " + field,
                    w -> w.headers(1, ES | EH, get(field, field.equals("transfer-encoding") ? "chunked" : "x")),
                    reset(1, ErrorCode.PROTOCOL_ERROR)));
        }
        return list;
    }

    /** RFC 7541. */
    private static List<Case> hpack() {
        return List.of(
                c("RFC 7541 §2.3.3: indexed field past the end of both tables",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0xBE))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §2.3.3: literal whose name index is past the end of both tables",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0x7E, 0x01, 'x'))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §6.1: indexed field with index 0",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0x80))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §5.1: integer too large",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §4.2: dynamic table size update after a field",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0x20))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §6.3: dynamic table size update above SETTINGS_HEADER_TABLE_SIZE",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(bytes(0x3F, 0xE2, 0x1F), STATIC_GET)),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §4.2: two size updates at the start of a block are accepted",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(bytes(0x20, 0x3F, 0xE1, 0x1F), STATIC_GET)),
                        status(1, 200)),
                c("RFC 7541 §5.2: Huffman string containing EOS",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1,
                                concat(STATIC_GET, bytes(0x00, 0x01, 'x', 0x84, 0xFF, 0xFF, 0xFF, 0xFF))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §5.2: Huffman padding longer than 7 bits",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0x00, 0x01, 'x', 0x82, 0x1F, 0xFF))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §5.2: Huffman padding that is not a prefix of EOS",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0x00, 0x01, 'x', 0x81, 0x18))),
                        goAway(ErrorCode.COMPRESSION_ERROR)),
                c("RFC 7541 §5.2: valid Huffman string is accepted",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0x00, 0x01, 'x', 0x81, 0x1F))),
                        status(1, 200)),
                c("RFC 7541 §6.2.3: never-indexed literal is accepted",
                        w -> w.frame(FrameType.HEADERS, ES | EH, 1, concat(STATIC_GET, bytes(0x10, 0x01, 'x', 0x01, 'v'))),
                        status(1, 200)),
                c("RFC 7541 §2.3.2: dynamic table entries are reused across requests",
                        w -> w.headers(1, ES | EH, get("x-shared", "value")).awaitResponse(1)
                                .headers(3, ES | EH, get("x-shared", "value")),
                        status(3, 200)));
    }

    // ---- outcomes ----

    /** What the server must do after the case's frames. */
    interface Outcome {
        void verify(Wire w) throws Exception;

        String label();
    }

    interface Check {
        void verify(Wire w) throws Exception;
    }

    private static Outcome outcome(String label, Check check) {
        return new Outcome() {
            @Override
            public void verify(Wire w) throws Exception {
                check.verify(w);
            }

            @Override
            public String label() {
                return label;
            }
        };
    }

    /** Connection error (§5.4.1): GOAWAY with one of {@code codes}, then the connection closes. */
    private static Outcome goAway(ErrorCode... codes) {
        return outcome("GOAWAY " + names(codes), w -> {
            for (int i = 0; i < MAX_FRAMES; i++) {
                H2TestClient.Frame frame = w.read();
                if (frame == null) {
                    fail("connection closed without GOAWAY " + names(codes) + "; frames: " + w.log());
                }
                if (frame.type() == FrameType.GOAWAY) {
                    assertThat(ErrorCode.fromCode(frame.errorCode())).as("GOAWAY code; frames: %s", w.log()).isIn((Object[]) codes);
                    assertThat(w.client.isClosedByPeer()).as("closed after GOAWAY").isTrue();
                    return;
                }
            }
            fail("no GOAWAY within " + MAX_FRAMES + " frames");
        });
    }

    /** Stream error (§5.4.2): RST_STREAM with one of {@code codes} on the stream; the connection goes on. */
    private static Outcome reset(int streamId, ErrorCode... codes) {
        return outcome("RST_STREAM " + names(codes), w -> {
            H2TestClient.Frame rst = w.awaitStreamOrConnectionError(streamId);
            assertThat(rst.type()).as("RST_STREAM on stream %d, not GOAWAY; frames: %s", streamId, w.log())
                    .isEqualTo(FrameType.RST_STREAM);
            assertThat(ErrorCode.fromCode(rst.errorCode())).as("RST_STREAM code; frames: %s", w.log()).isIn((Object[]) codes);
            w.pingRoundTrip(PING_PAYLOAD, false);
        });
    }

    /** Either a stream error on {@code streamId} or a connection error, with {@code code}: the RFC lets the server choose. */
    private static Outcome resetOrGoAway(int streamId, ErrorCode code) {
        return outcome("RST_STREAM or GOAWAY " + code, w -> {
            H2TestClient.Frame error = w.awaitStreamOrConnectionError(streamId);
            assertThat(ErrorCode.fromCode(error.errorCode())).as("error code; frames: %s", w.log()).isEqualTo(code);
            if (error.type() == FrameType.GOAWAY) {
                assertThat(w.client.isClosedByPeer()).as("closed after GOAWAY").isTrue();
            } else {
                w.pingRoundTrip(PING_PAYLOAD, false);
            }
        });
    }

    private static Outcome status(int streamId, int status) {
        return outcome(status + " on stream " + streamId, w -> {
            H2TestClient.Response response = w.response(streamId);
            assertThat(response.resetCode()).as("reset code; frames: %s", w.log()).isNull();
            assertThat(response.status()).as("status; frames: %s", w.log()).isEqualTo(status);
        });
    }

    /** No error at all: no RST_STREAM, no GOAWAY, and a PING is still answered. */
    private static Outcome ignored() {
        return outcome("ignored", w -> w.pingRoundTrip(PING_PAYLOAD, true));
    }

    private static Outcome pingAck(long payload) {
        return outcome("PING ACK", w -> w.pingRoundTrip(payload, true));
    }

    /** The first PING the server sends is the ACK of {@code payload} (an ACK it received was not answered). */
    private static Outcome firstPing(long payload) {
        return outcome("only the PING is answered", w -> {
            H2TestClient.Frame ping = w.awaitType(FrameType.PING);
            assertThat(ping.has(FrameFlags.ACK)).isTrue();
            assertThat(ByteBuffer.wrap(ping.payload()).getLong()).as("payload of the first PING; frames: %s", w.log())
                    .isEqualTo(payload);
        });
    }

    private static Outcome settingsAcked() {
        return outcome("SETTINGS ACK", w -> {
            for (int i = 0; i < MAX_FRAMES; i++) {
                H2TestClient.Frame frame = w.read();
                assertThat(frame).as("connection open; frames: %s", w.log()).isNotNull();
                assertThat(frame.type()).as("no error; frames: %s", w.log()).isNotIn(FrameType.GOAWAY, FrameType.RST_STREAM);
                if (frame.type() == FrameType.SETTINGS && frame.has(FrameFlags.ACK)) {
                    assertThat(frame.payload()).isEmpty();
                    return;
                }
            }
            fail("no SETTINGS ACK");
        });
    }

    /** The first DATA on the stream carries exactly {@code octets}: the window the client gave. */
    private static Outcome firstData(int streamId, int octets) {
        return outcome("first DATA of " + octets + " octets", w -> {
            H2TestClient.Frame data = w.awaitData(streamId);
            assertThat(data.payload()).as("first DATA; frames: %s", w.log()).hasSize(octets);
        });
    }

    /**
     * No DATA while the window is 0 (checked after a PING round trip), then {@code open} gives
     * credit and the first DATA carries at most {@code credit} octets. HEADERS are not flow
     * controlled (§6.9), but when they come is the server's choice, so it is not checked.
     */
    private static Outcome heldUntil(int streamId, Script open, int credit) {
        return outcome("DATA held until credit", w -> {
            w.pingRoundTrip(PING_PAYLOAD, true);
            assertThat(w.client.received).as("no DATA without window").noneMatch(
                    f -> f.type() == FrameType.DATA && f.streamId() == streamId && f.payload().length > 0);
            open.run(w);
            w.send();
            H2TestClient.Frame data = w.awaitData(streamId);
            assertThat(data.payload().length).as("first DATA; frames: %s", w.log()).isBetween(1, credit);
        });
    }

    /** Outcomes checked one after the other. */
    private static Outcome both(Outcome first, Outcome second) {
        return outcome(first.label() + ", " + second.label(), w -> {
            first.verify(w);
            second.verify(w);
        });
    }

    private static String names(ErrorCode... codes) {
        return Arrays.stream(codes).map(Enum::name).collect(Collectors.joining("|"));
    }

    // ---- cases ----

    interface Script {
        void run(Wire w) throws Exception;
    }

    /** One row: name (RFC section and outcome), whether the preface and SETTINGS are exchanged first, frames, outcome. */
    record Case(String description, boolean handshake, Script script, Outcome outcome) {
        @Override
        public String toString() {
            return description + " → " + outcome.label();
        }
    }

    private static Case c(String name, Script script, Outcome outcome) {
        return new Case(name, true, script, outcome);
    }

    /** A case that writes its own preface. */
    private static Case raw(String name, Script script, Outcome outcome) {
        return new Case(name, false, script, outcome);
    }

    // ---- the wire ----

    /** Frames queued for one connection, its HPACK encoder, and bounded reads. Test-thread only. */
    static final class Wire {
        final H2TestClient client;
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 18);
        private final HpackEncoder hpack = new HpackEncoder(4096);
        private final Set<Integer> dataSeen = new HashSet<>();

        Wire(H2TestClient client) {
            this.client = client;
        }

        /** Reads until the server's SETTINGS (acknowledged by the client) and its ACK of ours. */
        void handshake() throws IOException {
            boolean settings = false;
            boolean ack = false;
            for (int i = 0; i < 20 && !(settings && ack); i++) {
                H2TestClient.Frame frame = read();
                assertThat(frame).as("handshake; frames: %s", log()).isNotNull();
                if (frame.type() == FrameType.SETTINGS) {
                    settings |= !frame.has(FrameFlags.ACK);
                    ack |= frame.has(FrameFlags.ACK);
                }
            }
            assertThat(settings && ack).as("SETTINGS exchanged; frames: %s", log()).isTrue();
            client.received.clear();
        }

        Wire raw(byte[] bytes) {
            buffer.put(bytes);
            return this;
        }

        Wire preface() {
            return raw(ascii(FrameReader.PREFACE));
        }

        /** Any frame, as given: lengths, flags and stream ids (reserved bit included) are not checked. */
        Wire frame(int type, int flags, int streamId, byte[] payload) {
            int length = payload.length;
            buffer.put((byte) (length >>> 16)).put((byte) (length >>> 8)).put((byte) length);
            buffer.put((byte) type).put((byte) flags).putInt(streamId).put(payload);
            return this;
        }

        /** A field block from this connection's encoder (its dynamic table follows what was sent). */
        byte[] block(String... fields) {
            ByteBuffer out = ByteBuffer.allocate(1 << 16);
            hpack.beginBlock(out);
            for (int i = 0; i < fields.length; i += 2) {
                byte[] name = fields[i].getBytes(StandardCharsets.ISO_8859_1);
                byte[] value = fields[i + 1].getBytes(StandardCharsets.ISO_8859_1);
                hpack.header(name, 0, name.length, value, 0, value.length, out);
            }
            out.flip();
            byte[] block = new byte[out.remaining()];
            out.get(block);
            return block;
        }

        Wire headers(int streamId, int flags, String... fields) {
            return frame(FrameType.HEADERS, flags, streamId, block(fields));
        }

        Wire data(int streamId, int flags, byte[] payload) {
            return frame(FrameType.DATA, flags, streamId, payload);
        }

        /** SETTINGS with identifier, value pairs. */
        Wire settings(long... pairs) {
            ByteArrayOutputStream payload = new ByteArrayOutputStream();
            for (int i = 0; i < pairs.length; i += 2) {
                payload.writeBytes(setting((int) pairs[i], pairs[i + 1]));
            }
            return frame(FrameType.SETTINGS, 0, 0, payload.toByteArray());
        }

        Wire ping(int flags, long payload) {
            return frame(FrameType.PING, flags, 0, long8(payload));
        }

        Wire priority(int streamId, int dependency, int weight) {
            return frame(FrameType.PRIORITY, 0, streamId, prioritized(dependency, weight, new byte[0]));
        }

        Wire rst(int streamId, ErrorCode code) {
            return frame(FrameType.RST_STREAM, 0, streamId, int4(code.code()));
        }

        Wire windowUpdate(int streamId, int increment) {
            return frame(FrameType.WINDOW_UPDATE, 0, streamId, int4(increment));
        }

        /** Sends what is queued and waits for the whole response on {@code streamId}. */
        Wire awaitResponse(int streamId) throws IOException {
            H2TestClient.Response response = response(streamId);
            assertThat(response.status()).as("setup response; frames: %s", log()).isEqualTo(200);
            return this;
        }

        void send() throws IOException {
            buffer.flip();
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            buffer.clear();
            if (bytes.length > 0) {
                try {
                    client.send(bytes);
                } catch (IOException closedWhileSending) {
                    // The server may stop reading at an error before it has everything: the outcome judges.
                }
            }
        }

        /** The next frame; null once the server closed. A silent server fails the case after the socket timeout. */
        H2TestClient.Frame read() {
            try {
                return client.next();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no frame within " + READ_TIMEOUT_MS + " ms; frames: " + log());
            } catch (IOException closed) {
                return null;
            }
        }

        H2TestClient.Response response(int streamId) throws IOException {
            send();
            try {
                return client.response(streamId);
            } catch (IOException e) {
                throw new AssertionError("no response on stream " + streamId + " (" + e + "); frames: " + log());
            }
        }

        H2TestClient.Frame awaitType(int type) {
            for (int i = 0; i < MAX_FRAMES; i++) {
                H2TestClient.Frame frame = read();
                assertThat(frame).as("connection open; frames: %s", log()).isNotNull();
                if (frame.type() == type) {
                    return frame;
                }
            }
            throw new AssertionError("no frame of type " + FrameType.name(type));
        }

        /** The first RST_STREAM on {@code streamId}, or a GOAWAY, whichever comes first. */
        H2TestClient.Frame awaitStreamOrConnectionError(int streamId) {
            for (int i = 0; i < MAX_FRAMES; i++) {
                H2TestClient.Frame frame = read();
                assertThat(frame).as("RST_STREAM or GOAWAY before close; frames: %s", log()).isNotNull();
                if (frame.type() == FrameType.GOAWAY || (frame.type() == FrameType.RST_STREAM && frame.streamId() == streamId)) {
                    return frame;
                }
            }
            throw new AssertionError("no RST_STREAM or GOAWAY");
        }

        /** The first DATA with a payload on {@code streamId}; errors fail. */
        H2TestClient.Frame awaitData(int streamId) {
            for (int i = 0; i < MAX_FRAMES; i++) {
                H2TestClient.Frame frame = read();
                assertThat(frame).as("connection open; frames: %s", log()).isNotNull();
                assertThat(frame.type()).as("no error; frames: %s", log()).isNotIn(FrameType.GOAWAY, FrameType.RST_STREAM);
                if (frame.type() == FrameType.DATA && frame.streamId() == streamId && frame.payload().length > 0
                        && dataSeen.add(streamId)) {
                    return frame;
                }
            }
            throw new AssertionError("no DATA on stream " + streamId);
        }

        /**
         * Sends a PING and reads until its ACK. With {@code strict}, any RST_STREAM or GOAWAY before
         * it fails the case; otherwise only a GOAWAY does (a stream error was the expected outcome).
         */
        void pingRoundTrip(long payload, boolean strict) throws IOException {
            ping(0, payload);
            send();
            for (int i = 0; i < MAX_FRAMES; i++) {
                H2TestClient.Frame frame = read();
                assertThat(frame).as("connection still open; frames: %s", log()).isNotNull();
                assertThat(frame.type()).as("no GOAWAY; frames: %s", log()).isNotEqualTo(FrameType.GOAWAY);
                if (strict) {
                    assertThat(frame.type()).as("no RST_STREAM; frames: %s", log()).isNotEqualTo(FrameType.RST_STREAM);
                }
                if (frame.type() == FrameType.PING && frame.has(FrameFlags.ACK)
                        && ByteBuffer.wrap(frame.payload()).getLong() == payload) {
                    return;
                }
            }
            fail("no PING ACK");
        }

        /** What arrived, for failure messages. */
        String log() {
            return client.received.stream().map(Wire::describe).collect(Collectors.joining(", ", "[", "]"));
        }

        private static String describe(H2TestClient.Frame f) {
            String text = FrameType.name(f.type()) + "(stream " + f.streamId() + ", flags 0x" + Integer.toHexString(f.flags())
                    + ", " + f.payload().length + " octets";
            if (f.type() == FrameType.RST_STREAM || f.type() == FrameType.GOAWAY) {
                text += ", " + ErrorCode.fromCode(f.errorCode());
            }
            return text + ")";
        }
    }

    // ---- fields and payloads ----

    private static String[] get(String... extra) {
        return request("GET", extra);
    }

    private static String[] post(String... extra) {
        return request("POST", extra);
    }

    /** A request's pseudo-header fields, then {@code extra}; an extra {@code :path} replaces the default. */
    private static String[] request(String method, String... extra) {
        List<String> all = new ArrayList<>(List.of(":method", method, ":scheme", "https"));
        boolean path = extra.length >= 2 && extra[0].equals(":path");
        all.addAll(List.of(":path", path ? extra[1] : "/", ":authority", "h2.test"));
        all.addAll(List.of(extra).subList(path ? 2 : 0, extra.length));
        return all.toArray(new String[0]);
    }

    private static String[] fields(String... fields) {
        return fields;
    }

    private static byte[] setting(int id, long value) {
        return ByteBuffer.allocate(6).putShort((short) id).putInt((int) value).array();
    }

    private static byte[] unknownSettings(int count) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < count; i++) {
            out.writeBytes(setting(0xF000 + i % 100, i));
        }
        return out.toByteArray();
    }

    /** Pad Length, content, then that many zero octets (§6.1, §6.2). */
    private static byte[] padded(byte[] content, int padLength) {
        return concat(bytes(padLength), content, new byte[padLength]);
    }

    /** Exclusive bit clear, Stream Dependency, Weight (sent as weight - 1), then the rest (§6.2, §6.3). */
    private static byte[] prioritized(int dependency, int weight, byte[] rest) {
        return concat(int4(dependency), bytes(weight - 1), rest);
    }

    private static byte[] int4(int value) {
        return ByteBuffer.allocate(4).putInt(value).array();
    }

    private static byte[] long8(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    private static byte[] bytes(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] slice(byte[] bytes, int from, int to) {
        return Arrays.copyOfRange(bytes, from, to);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
