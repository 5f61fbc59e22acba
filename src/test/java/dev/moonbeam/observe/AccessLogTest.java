package dev.moonbeam.observe;

import static dev.moonbeam.observe.Records.backend;
import static dev.moonbeam.observe.Records.head;
import static dev.moonbeam.observe.Records.record;
import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.balance.Backend;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AccessLogTest {
    private static final Backend B1 = backend("127.0.0.1:8081");
    private static final String DATE = "[26/Nov/2026:10:50:50 +0000]";

    @TempDir
    Path dir;

    static Stream<Arguments> lines() {
        return Stream.of(
                Arguments.of("GET with referer and user agent",
                        record(head("GET /x?a=1 HTTP/1.1\r\nHost: h\r\nreferer: http://r/\r\nUSER-AGENT: curl/8.0\r\n\r\n"),
                                200, 1234, B1, 1, 3, 3, 4, Termination.COMPLETED),
                        "127.0.0.1 - - " + DATE + " \"GET /x?a=1 HTTP/1.1\" 200 1234 \"http://r/\" \"curl/8.0\""
                                + " backend=127.0.0.1:8081 backend_time=0.003 total=0.004 termination=completed"),
                Arguments.of("POST with a body, pooled connection",
                        record(head("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"),
                                201, 80, B1, -1, 12, 1500, 1502, Termination.COMPLETED),
                        "127.0.0.1 - - " + DATE + " \"POST /form HTTP/1.1\" 201 80 \"-\" \"-\""
                                + " backend=127.0.0.1:8081 backend_time=1.500 total=1.502 termination=completed"),
                Arguments.of("404 from the backend",
                        record(head("GET /missing HTTP/1.0\r\n\r\n"), 404, 0, B1, 0, 0, 0, 0, Termination.COMPLETED),
                        "127.0.0.1 - - " + DATE + " \"GET /missing HTTP/1.0\" 404 0 \"-\" \"-\""
                                + " backend=127.0.0.1:8081 backend_time=0.000 total=0.000 termination=completed"),
                Arguments.of("400 before any head parsed",
                        record(null, 400, 118, null, -1, -1, -1, 0, Termination.BAD_REQUEST),
                        "127.0.0.1 - - " + DATE + " \"-\" 400 118 \"-\" \"-\" backend=- backend_time=- total=0.000 termination=bad_request"),
                Arguments.of("client went away: 499",
                        record(head("GET /slow HTTP/1.1\r\nHost: h\r\nUser-Agent: a \"quoted\" \\ agent\r\n\r\n"),
                                RequestRecord.CLIENT_CLOSED_REQUEST, 0, B1, 2, -1, 61_000, 61_001, Termination.CLIENT_CLOSED),
                        "127.0.0.1 - - " + DATE + " \"GET /slow HTTP/1.1\" 499 0 \"-\" \"a \\x22quoted\\x22 \\x5C agent\""
                                + " backend=127.0.0.1:8081 backend_time=61.000 total=61.001 termination=client_closed"),
                Arguments.of("non-ASCII bytes escaped",
                        record(head("GET /caf%C3%A9 HTTP/1.1\r\nHost: h\r\nReferer: caf\u00e9\tx\r\n\r\n"), 503, 10, null, -1, -1, -1, 30,
                                Termination.NO_BACKEND),
                        "127.0.0.1 - - " + DATE + " \"GET /caf%C3%A9 HTTP/1.1\" 503 10 \"caf\\xE9\\x09x\" \"-\""
                                + " backend=- backend_time=- total=0.030 termination=no_backend"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lines")
    void formatsCombinedPlusTimings(String name, RequestRecord record, String expected) {
        assertThat(format(new AccessLogLine(), record)).isEqualTo(expected + "\n");
    }

    @Test
    void anHttp2RequestIsLoggedWithTheProtocolTheClientSpoke() {
        RequestRecord record = record(head("GET /h2 HTTP/1.1\r\nhost: h\r\nuser-agent: nghttp2/1.52\r\n\r\n"),
                200, 5, B1, -1, 1, 2, 3, Termination.COMPLETED);
        record.http2 = true;
        assertThat(format(new AccessLogLine(), record)).isEqualTo("127.0.0.1 - - " + DATE
                + " \"GET /h2 HTTP/2.0\" 200 5 \"-\" \"nghttp2/1.52\" backend=127.0.0.1:8081 backend_time=0.002 total=0.003"
                + " termination=completed\n");
    }

    @Test
    void longFieldsAreCutAndMarked() {
        String target = "/" + "a".repeat(5000);
        String ua = "u".repeat(1000);
        RequestRecord r = record(head("GET " + target + " HTTP/1.1\r\nHost: h\r\nUser-Agent: " + ua + "\r\n\r\n"),
                200, 1, B1, 1, 1, 1, 1, Termination.COMPLETED);
        String line = format(new AccessLogLine(), r);
        assertThat(line.length()).isLessThanOrEqualTo(AccessLogLine.MAX_LINE_BYTES);
        assertThat(line).contains("aaa...\" 200 1 \"-\" \"uuu").contains("uuu...\" backend=");
    }

    @Test
    void datesMatchJavaTime() {
        DateTimeFormatter java = DateTimeFormatter.ofPattern("'['dd/MMM/yyyy:HH:mm:ss' +0000]'", Locale.ROOT).withZone(ZoneOffset.UTC);
        byte[] out = new byte[28];
        long[] seconds = {0, 951_782_400L /* 2000-02-29 */, 1_795_690_250L, 4_102_444_799L /* 2099-12-31 */, 1_709_164_800L};
        for (long second : seconds) {
            for (long step = 0; step < 400 * 86_400; step += 86_400 + 3_601) {
                AccessLogLine.formatDate(second + step, out);
                assertThat(new String(out, StandardCharsets.US_ASCII)).isEqualTo(java.format(Instant.ofEpochSecond(second + step)));
            }
        }
    }

    @Test
    void writesLinesToTheFile() throws Exception {
        Path file = dir.resolve("access.log");
        try (AccessLog log = AccessLog.open(file, 16)) {
            AccessLog.Recorder loop0 = log.recorder();
            AccessLog.Recorder loop1 = log.recorder();
            for (Arguments row : lines().toList()) {
                loop0.requestFinished((RequestRecord) row.get()[1]);
            }
            loop1.requestFinished(record(null, 408, 0, null, -1, -1, -1, 5, Termination.CLIENT_TIMEOUT));
        }
        List<String> written = Files.readAllLines(file);
        assertThat(written).hasSize(7);
        // Each loop's lines keep their order; lines of different loops may interleave.
        List<String> fromLoop1 = written.stream().filter(line -> line.contains("\"-\" 408 0")).toList();
        assertThat(fromLoop1).hasSize(1);
        assertThat(written.stream().filter(line -> !fromLoop1.contains(line)).toList())
                .containsExactlyElementsOf(lines().map(a -> (String) a.get()[2]).toList());
    }

    @Test
    void fullQueueDropsAndCounts() throws Exception {
        Path file = dir.resolve("access.log");
        AccessLog log = AccessLog.openPaused(file, 4);
        AccessLog.Recorder recorder = log.recorder();
        RequestRecord r = record(head("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 200, 1, B1, 1, 1, 1, 1, Termination.COMPLETED);
        for (int i = 0; i < 10; i++) {
            recorder.requestFinished(r);
        }
        assertThat(recorder.drops()).isEqualTo(6);
        assertThat(log.drops()).isEqualTo(6);
        log.startWriter();
        log.close();
        assertThat(Files.readAllLines(file)).hasSize(4);
    }

    @Test
    void reopenAfterRotationWritesANewFile() throws Exception {
        Path file = dir.resolve("access.log");
        Path rotated = dir.resolve("access.log.1");
        RequestRecord first = record(head("GET /first HTTP/1.1\r\nHost: h\r\n\r\n"), 200, 1, B1, 1, 1, 1, 1, Termination.COMPLETED);
        RequestRecord second = record(head("GET /second HTTP/1.1\r\nHost: h\r\n\r\n"), 200, 1, B1, 1, 1, 1, 1, Termination.COMPLETED);
        try (AccessLog log = AccessLog.open(file, 16)) {
            AccessLog.Recorder recorder = log.recorder();
            recorder.requestFinished(first);
            awaitTrue(() -> Files.size(file) > 0);
            Files.move(file, rotated); // what logrotate does before signalling
            log.reopen();
            awaitTrue(() -> log.reopens() == 1);
            recorder.requestFinished(second);
        }
        assertThat(Files.readString(rotated)).contains("GET /first").doesNotContain("/second");
        assertThat(Files.readString(file)).contains("GET /second").doesNotContain("/first");
    }

    @Test
    void recordingAllocatesNothing() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        RequestRecord r = record(head("GET /x HTTP/1.1\r\nHost: h\r\nReferer: http://r/\r\nUser-Agent: curl\r\n\r\n"),
                200, 1234, B1, 1, 3, 3, 4, Termination.COMPLETED);
        int rounds = 10_000;
        try (AccessLog log = AccessLog.open(dir.resolve("access.log"), 1024)) {
            AccessLog.Recorder recorder = log.recorder();
            long allocated = 0;
            for (int pass = 0; pass < 3; pass++) { // the first passes warm up the JIT
                long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
                for (int i = 0; i < rounds; i++) {
                    r.startEpochMillis += 7; // crosses seconds: the date cache is refreshed too
                    recorder.requestFinished(r);
                }
                allocated = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
            }
            assertThat(allocated).isLessThan(rounds / 4);
        }
    }

    static String format(AccessLogLine line, RequestRecord record) {
        byte[] out = new byte[AccessLogLine.MAX_LINE_BYTES + 10];
        int length = line.format(record, out, 3);
        return new String(out, 3, length, StandardCharsets.ISO_8859_1);
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void awaitTrue(Check check) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(5);
        }
    }
}
