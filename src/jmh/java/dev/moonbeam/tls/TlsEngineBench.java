package dev.moonbeam.tls;

import dev.moonbeam.loop.BufferPool;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Cost of one application record through a handshaken server {@link TlsEngine}: unwrapping a
 * ~500-byte request ({@code receive} + {@code readPlaintext}), wrapping a ~200-byte response and
 * a 16 KiB body ({@code send} + {@code drainTo}). Server buffers are direct, as in the proxy (pool
 * buffers and the loop's scratch buffer). One suite per protocol: TLS 1.3 AES-128-GCM and TLS 1.2
 * ECDHE-ECDSA-AES128-GCM with the committed EC test key.
 *
 * <p>A record cannot be unwrapped twice (its sequence number is spent), so the unwrap benchmark
 * takes a batch of fresh records that the client encrypted in an untimed per-invocation setup.
 * Its ns/op is the server alone; its B/op (-prof gc counts the whole iteration) also contains the
 * client's encryption. The setup therefore reads this thread's allocation counter around each
 * invocation and prints the server-only figure after every iteration ("server-only allocation").
 * {@link #clientWrapRequest} is the client's encryption by itself, for comparison.
 *
 * <p>{@code scripts/jmh.sh TlsEngineBench} runs it (2 s iterations; the script fixes -w/-r, so for
 * other settings run {@code org.openjdk.jmh.Main} with the script's classpath, any java binary).
 *
 * <p>Measured 2026-11-26 on a shared 2-core VM (-f 1 -wi 3 -w 1s -i 3 -r 1s; ns/op within ~±30%
 * between iterations, B/op exact), JDK 17.0.15 / 25.0.3, TLS 1.3:
 * unwrap of the request 1.96 / 2.17 us and 2576 / 2576 B server-only; wrap of the response
 * 1.08 / 0.98 us and 1680 / 1712 B; wrap of a full record 6.2 / 5.9 us and 3336 / 2360 B. TLS 1.2
 * is within the noise of that. All of it is allocated inside the JDK's SSLEngine and GCM cipher;
 * about 450 B (wrap) and 1 KB (unwrap) of it is the cipher's direct-buffer path (temporary arrays
 * and buffer views); with heap buffers it is not allocated.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TlsEngineBench {
    /** Records per unwrap invocation: enough that the per-invocation timestamps do not matter. */
    static final int BATCH = 256;
    static final String REQUEST = "GET /products/list?category=shoes&page=2 HTTP/1.1\r\n"
            + "Host: shop.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
            + "Referer: https://shop.example.com/\r\n"
            + "Connection: keep-alive\r\n"
            + "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "Sec-Fetch-Dest: document\r\n"
            + "Sec-Fetch-Mode: navigate\r\n"
            + "\r\n";
    static final String RESPONSE = "HTTP/1.1 200 OK\r\n"
            + "Date: Thu, 26 Nov 2026 10:00:00 GMT\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: 27\r\n"
            + "Cache-Control: no-store\r\n"
            + "Keep-Alive: timeout=5\r\n"
            + "\r\n"
            + "{\"id\":42,\"name\":\"sneaker\"}\n";
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** Largest plaintext of one record (RFC 8446 §5.1). */
    static final int LARGE = 16 * 1024;

    /** A handshaken server engine and its client; everything per-op reuses these buffers. */
    @State(Scope.Thread)
    public static class Connection {
        @Param({"TLSv1.3", "TLSv1.2"})
        public String protocol;

        private final BufferPool pool = BufferPool.withDefaults();
        TlsEngine server;
        SSLEngine client;
        /** Client-side buffers, heap like an ordinary client's. */
        final ByteBuffer clientOut = ByteBuffer.allocate(1 << 20);
        private final ByteBuffer clientIn = ByteBuffer.allocate(1 << 20);
        private final ByteBuffer clientPlain = ByteBuffer.allocate(64 * 1024);
        final ByteBuffer requestPlain = ByteBuffer.wrap(REQUEST.getBytes(StandardCharsets.US_ASCII));
        private final ByteBuffer response = direct(RESPONSE.getBytes(StandardCharsets.US_ASCII));
        private final ByteBuffer large = direct(new byte[LARGE]);
        /** The loop's scratch buffer in the proxy: ciphertext arrives here. */
        final ByteBuffer scratch = ByteBuffer.allocateDirect(BufferPool.DEFAULT_BUFFER_SIZE);
        /** Where plaintext is read to and ciphertext drained to. */
        private final ByteBuffer sink = ByteBuffer.allocateDirect(2 * BufferPool.DEFAULT_BUFFER_SIZE);

        @Setup(Level.Trial)
        public void handshake() throws Exception {
            SslContexts.hardenJdkDefaults();
            String suite = "TLSv1.3".equals(protocol) ? "TLS_AES_128_GCM_SHA256" : "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
            KeyMaterial ec = Fixtures.ec();
            TlsSettings settings = TlsSettings.defaults().withProtocols(List.of(protocol)).withCipherSuites(List.of(suite));
            ServerTls tls = SslContexts.create(List.of(ec), settings);
            server = new TlsEngine(tls.newSession(), pool, System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
            client = Fixtures.clientTrusting(List.of(ec)).createSSLEngine("ec.test", 443);
            client.setUseClientMode(true);
            SSLParameters parameters = client.getSSLParameters();
            parameters.setProtocols(new String[] {protocol});
            parameters.setCipherSuites(new String[] {suite});
            client.setSSLParameters(parameters);
            client.beginHandshake();
            for (int round = 0; round < 100 && !handshakeDone(); round++) {
                pump();
            }
            if (!handshakeDone()) {
                throw new IllegalStateException("handshake did not finish: " + server.state() + " " + server.failure());
            }
            String negotiated = client.getSession().getProtocol() + " " + client.getSession().getCipherSuite();
            if (!negotiated.equals(protocol + " " + suite)) {
                throw new IllegalStateException("negotiated " + negotiated);
            }
            // One full exchange, checked, so TLS 1.3's NewSessionTicket is behind us and the path is proven.
            requestPlain.rewind();
            clientWrap(requestPlain);
            serverReceiveAll(REQUEST.length());
            response.rewind();
            serverSend(response);
            clientUnwrapAll(RESPONSE.length());
            // JDK 17 and 25 put at most 16384 - 17 plaintext bytes into a TLS 1.3 record (leaving room
            // for the inner content type and the tag), 16384 into a TLS 1.2 one: one wrap decides.
            large.clear();
            int perRecord = server.send(large);
            sink.clear();
            server.drainTo(sink);
            large.clear().limit(perRecord);
        }

        @TearDown(Level.Trial)
        public void check() {
            if (server.state() != TlsEngine.State.OPEN || server.failure() != null) {
                throw new IllegalStateException("server ended " + server.state() + " " + server.failure(), server.failureCause());
            }
            server.release();
            if (pool.outstanding() != 0) {
                throw new IllegalStateException(pool.outstanding() + " pool buffers not returned");
            }
        }

        /** Encrypts all of plaintext as one record and drains it. */
        int wrapAndDrain(ByteBuffer plaintext) {
            if (server.send(plaintext) != plaintext.limit()) {
                throw new IllegalStateException("send took less than one record: " + server.failure());
            }
            sink.clear();
            return server.drainTo(sink);
        }

        // ---- handshake plumbing (untimed) -------------------------------------------------------------

        private boolean handshakeDone() {
            HandshakeStatus status = client.getHandshakeStatus();
            return server.state() == TlsEngine.State.OPEN && !server.hasPendingOutput()
                    && (status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED);
        }

        /** One round: the client does all it can, its bytes go to the server, the server's come back. */
        private void pump() throws SSLException {
            for (int step = 0; step < 50; step++) {
                HandshakeStatus status = client.getHandshakeStatus();
                if (status == HandshakeStatus.NEED_TASK) {
                    for (Runnable task = client.getDelegatedTask(); task != null; task = client.getDelegatedTask()) {
                        task.run();
                    }
                } else if (status == HandshakeStatus.NEED_WRAP) {
                    client.wrap(ByteBuffer.allocate(0), clientOut);
                } else if (status == HandshakeStatus.NEED_UNWRAP && clientIn.position() > 0) {
                    clientIn.flip();
                    SSLEngineResult result = client.unwrap(clientIn, clientPlain);
                    clientIn.compact();
                    if (result.bytesConsumed() == 0) {
                        break;
                    }
                } else {
                    break;
                }
            }
            serverReceiveAll(0);
            while (server.hasPendingOutput()) {
                server.drainTo(clientIn);
            }
        }

        private void clientWrap(ByteBuffer plaintext) throws SSLException {
            while (plaintext.hasRemaining()) {
                client.wrap(plaintext, clientOut);
            }
        }

        /** Feeds all client output to the server; checks how much plaintext came out. */
        private void serverReceiveAll(int expected) {
            clientOut.flip();
            long read = 0;
            while (clientOut.hasRemaining() || server.hasPlaintext() || server.hasHeldInput()) {
                int count = Math.min(clientOut.remaining(), server.inboundRoom());
                scratch.clear();
                scratch.put(clientOut.slice().limit(count)).flip();
                clientOut.position(clientOut.position() + count);
                TlsEngine.Result result = server.receive(scratch);
                sink.clear();
                read += server.readPlaintext(sink);
                if (result == TlsEngine.Result.FAILED) {
                    throw new IllegalStateException("server failed: " + server.failure(), server.failureCause());
                }
                if (count == 0 && !server.hasPlaintext()) {
                    server.resume();
                    if (!server.hasPlaintext()) {
                        break;
                    }
                }
            }
            clientOut.clear();
            if (read != expected) {
                throw new IllegalStateException("server read " + read + " plaintext bytes, expected " + expected);
            }
        }

        private void serverSend(ByteBuffer plaintext) {
            while (plaintext.hasRemaining()) {
                server.send(plaintext);
                server.drainTo(clientIn);
            }
        }

        private void clientUnwrapAll(int expected) throws SSLException {
            clientIn.flip();
            clientPlain.clear();
            while (clientIn.hasRemaining()) {
                if (client.unwrap(clientIn, clientPlain).bytesConsumed() == 0) {
                    break;
                }
            }
            clientIn.compact();
            if (clientPlain.position() != expected) {
                throw new IllegalStateException("client read " + clientPlain.position() + " bytes, expected " + expected);
            }
        }

        private static ByteBuffer direct(byte[] bytes) {
            return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        }
    }

    /** A batch of fresh client records, encrypted outside the timed region. */
    @State(Scope.Thread)
    public static class RequestBatch {
        final int[] ends = new int[BATCH];
        /**
         * The connection the records are for. JMH hands a helper's setup its own instance of a
         * Scope.Thread state, distinct from one a benchmark method declares, so the benchmark
         * takes this one.
         */
        Connection connection;
        /** Direct, like the proxy's socket reads; filled once per invocation. */
        ByteBuffer ciphertext;
        /** Bytes this thread allocated between setups, i.e. in the unwraps alone, this iteration. */
        private long serverBytes;
        private long records;
        private long afterSetup;

        @Setup(Level.Invocation)
        public void encrypt(Connection bench) throws SSLException {
            long now = THREADS.getCurrentThreadAllocatedBytes();
            if (connection != null) {
                serverBytes += now - afterSetup; // the last invocation: server work only
                records += BATCH;
            }
            connection = bench;
            if (ciphertext == null) {
                ciphertext = ByteBuffer.allocateDirect(BATCH * (REQUEST.length() + 64));
            }
            ciphertext.clear();
            for (int i = 0; i < BATCH; i++) {
                bench.requestPlain.rewind();
                bench.clientOut.clear();
                bench.client.wrap(bench.requestPlain, bench.clientOut);
                bench.clientOut.flip();
                ciphertext.put(bench.clientOut);
                ends[i] = ciphertext.position();
            }
            afterSetup = THREADS.getCurrentThreadAllocatedBytes();
        }

        @Setup(Level.Iteration)
        public void resetCount() {
            serverBytes = 0;
            records = 0;
            connection = null;
        }

        @TearDown(Level.Iteration)
        public void report() {
            if (records > 0) {
                System.out.printf("  [server-only allocation: %.0f B/op over %d records]%n",
                        (double) serverBytes / records, records);
            }
        }
    }

    /** (a) One ~500-byte request record: receive, then read the plaintext out. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long unwrapRequest(RequestBatch batch) {
        Connection c = batch.connection;
        ByteBuffer in = batch.ciphertext;
        int start = 0;
        long read = 0;
        for (int i = 0; i < BATCH; i++) {
            in.limit(batch.ends[i]).position(start);
            start = batch.ends[i];
            if (c.server.receive(in) == TlsEngine.Result.FAILED) {
                throw new IllegalStateException("unwrap failed: " + c.server.failure(), c.server.failureCause());
            }
            c.sink.clear();
            read += c.server.readPlaintext(c.sink);
        }
        if (read != (long) BATCH * REQUEST.length()) {
            throw new IllegalStateException("read " + read + " plaintext bytes from " + BATCH + " requests");
        }
        return read;
    }

    /** Baseline for {@link #unwrapRequest}'s B/op: the client's encryption of one request record. */
    @Benchmark
    public SSLEngineResult clientWrapRequest(Connection c) throws SSLException {
        c.requestPlain.rewind();
        c.clientOut.clear();
        return c.client.wrap(c.requestPlain, c.clientOut);
    }

    /** (b) One ~200-byte response record: send, then drain the ciphertext. */
    @Benchmark
    public int wrapResponse(Connection c) {
        c.response.rewind();
        return c.wrapAndDrain(c.response);
    }

    /** (c) One full record (16 KiB of plaintext, or what the JDK puts in one TLS 1.3 record). */
    @Benchmark
    public int wrap16k(Connection c) {
        c.large.rewind();
        return c.wrapAndDrain(c.large);
    }
}
