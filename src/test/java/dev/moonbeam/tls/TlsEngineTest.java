package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.loop.BufferPool;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine alone, in memory: every split offset, several records per read, refusals, deadlines.
 * Runs once per provider ({@link JdkTlsEngineTest}, {@link NativeTlsEngineTest}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TlsEngineTest {
    private static final long START = 5_000_000_000L;
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    private static final byte[] REQUEST = "GET /x HTTP/1.1\r\nHost: ec.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private ServerTls tls;
    private SSLContext clientContext;

    /** Fresh per test: the instance lives for the whole class (the providers are set up once). */
    private BufferPool pool;
    private final ByteArrayOutputStream plaintext = new ByteArrayOutputStream();

    abstract TestProvider provider();

    @BeforeEach
    void freshState() {
        pool = BufferPool.withDefaults();
        plaintext.reset();
    }

    @BeforeAll
    void setUp() throws Exception {
        SslContexts.hardenJdkDefaults();
        List<KeyMaterial> certs = List.of(Fixtures.ec(), Fixtures.rsa());
        tls = provider().create(certs, TlsSettings.defaults());
        clientContext = Fixtures.clientTrusting(certs);
    }

    @AfterAll
    void retire() {
        if (tls != null) {
            tls.retire();
        }
    }

    /** Delegated tasks are JSSE's; BoringSSL computes its handshake inline. */
    private void assumeDelegatedTasks() {
        Assumptions.assumeTrue(provider() == TestProvider.JDK,
                "the native provider has no delegated tasks (handshakes run inline): skipped");
    }

    private TlsEngine newServer() {
        return new TlsEngine(tls.newSession(), pool, START + HANDSHAKE_TIMEOUT.toNanos());
    }

    private TestClient newClient(String protocol) throws Exception {
        return new TestClient(clientContext, protocol, "ec.test");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void clientHelloSplitAtEveryOffset(String protocol) throws Exception {
        TestClient probe = newClient(protocol);
        probe.step();
        int helloLength = probe.takeOutput().length;
        assertThat(helloLength).isGreaterThan(100);

        for (int split = 0; split <= helloLength; split++) {
            TlsEngine server = newServer();
            TestClient client = newClient(protocol);
            client.step();
            byte[] hello = client.takeOutput();
            feed(server, Arrays.copyOfRange(hello, 0, split));
            if (split < hello.length) {
                assertThat(server.hasPendingOutput()).as("no answer to a partial hello, split %d", split).isFalse();
            }
            feed(server, Arrays.copyOfRange(hello, split, hello.length));
            assertThat(server.hasPendingOutput()).as("server flight after split %d", split).isTrue();
            completeHandshake(server, client);
            assertEcho(server, client);
            server.release();
            assertThat(pool.outstanding()).as("split %d", split).isZero();
        }
    }

    /** TLS 1.3 lets the client send its request right behind its Finished; split that flight everywhere. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void lastClientFlightWithApplicationDataSplitAtEveryOffset(String protocol) throws Exception {
        for (int split = 0; ; split++) {
            TlsEngine server = newServer();
            TestClient client = newClient(protocol);
            client.step();
            feed(server, client.takeOutput());
            client.fromServer.put(drain(server));
            client.step(); // client's last flight
            if (protocol.equals("TLSv1.3")) {
                client.send(REQUEST);
                client.step(); // its request rides along
            }
            byte[] flight = client.takeOutput();
            if (split > flight.length) {
                server.release();
                break;
            }
            feed(server, Arrays.copyOfRange(flight, 0, split));
            feed(server, Arrays.copyOfRange(flight, split, flight.length));
            if (protocol.equals("TLSv1.3")) {
                assertThat(server.state()).isEqualTo(TlsEngine.State.OPEN);
                assertThat(plaintext.toByteArray()).as("split %d", split).isEqualTo(REQUEST);
                plaintext.reset();
            }
            completeHandshake(server, client);
            assertEcho(server, client);
            server.release();
            assertThat(pool.outstanding()).isZero();
        }
    }

    @Test
    void severalRecordsInOneReceive() throws Exception {
        TlsEngine server = newServer();
        TestClient client = newClient("TLSv1.3");
        completeHandshake(server, client);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < 6; i++) {
            byte[] message = ("message " + i + ";").getBytes(StandardCharsets.US_ASCII);
            expected.write(message);
            client.send(message);
            client.step(); // one record each
        }
        byte[] records = client.takeOutput();
        TlsEngine.Result result = server.receive(ByteBuffer.wrap(records));

        assertThat(result).isEqualTo(TlsEngine.Result.NEED_INPUT);
        readAll(server);
        assertThat(plaintext.toByteArray()).isEqualTo(expected.toByteArray());
        assertThat(pool.outstanding()).isZero();
        server.release();
    }

    @Test
    void partialRecordIsHeldInOnePooledBufferUntilComplete() throws Exception {
        TlsEngine server = newServer();
        TestClient client = newClient("TLSv1.3");
        completeHandshake(server, client);
        client.send(REQUEST);
        client.step();
        byte[] record = client.takeOutput();

        assertThat(server.receive(ByteBuffer.wrap(record, 0, 3))).isEqualTo(TlsEngine.Result.NEED_INPUT);
        if (provider() == TestProvider.JDK) {
            assertThat(server.hasHeldInput()).isTrue();
            assertThat(pool.outstanding()).isEqualTo(1);
        } else {
            // BoringSSL takes the partial record into its own read buffer; none of ours is held.
            assertThat(server.hasHeldInput()).isFalse();
            assertThat(pool.outstanding()).isZero();
        }
        assertThat(server.receive(ByteBuffer.wrap(record, 3, record.length - 3))).isEqualTo(TlsEngine.Result.NEED_INPUT);
        assertThat(server.hasHeldInput()).isFalse();
        readAll(server);
        assertThat(plaintext.toByteArray()).isEqualTo(REQUEST);
        assertThat(pool.outstanding()).isZero();
        server.release();
    }

    @Test
    void largeResponseWaitsForDrainingInsteadOfGrowing() throws Exception {
        TlsEngine server = newServer();
        TestClient client = newClient("TLSv1.3");
        completeHandshake(server, client);
        ByteBuffer body = ByteBuffer.wrap(new byte[200_000]);
        int rounds = 0;
        while (body.hasRemaining() && rounds++ < 1_000) {
            int taken = server.send(body);
            assertThat(taken).isBetween(0, 16_384);
            assertThat(pool.outstanding()).isLessThanOrEqualTo(1);
            client.fromServer.put(drain(server));
            client.step();
        }
        assertThat(client.received.size()).isEqualTo(200_000);
        assertThat(pool.outstanding()).isZero();
        server.release();
    }

    /** A hand-made TLS 1.1 ClientHello (the JDK client will not send one): refused with an alert. */
    @Test
    void tls11ClientHelloIsRefused() {
        TlsEngine server = newServer();
        byte[] body = new byte[43];
        body[0] = 3;
        body[1] = 2; // client_version TLS 1.1
        body[34] = 0; // no session id
        body[35] = 0;
        body[36] = 4; // two suites
        body[37] = (byte) 0xC0;
        body[38] = 0x13; // ECDHE_RSA_WITH_AES_128_CBC_SHA
        body[39] = 0x00;
        body[40] = 0x2F; // RSA_WITH_AES_128_CBC_SHA
        body[41] = 1;
        body[42] = 0; // null compression, no extensions
        ByteBuffer hello = ByteBuffer.allocate(5 + 4 + body.length);
        hello.put(new byte[] {22, 3, 1, 0, (byte) (4 + body.length), 1, 0, 0, (byte) body.length}).put(body).flip();

        assertThat(server.receive(hello)).isEqualTo(TlsEngine.Result.FAILED);
        assertThat(server.failure()).isEqualTo(TlsEngine.Failure.HANDSHAKE);
        byte[] alert = drain(server);
        assertThat(alert).isNotEmpty();
        assertThat(alert[0]).as("alert record").isEqualTo((byte) 21);
        assertThat(server.state()).isEqualTo(TlsEngine.State.CLOSED);
        server.release();
        assertThat(pool.outstanding()).isZero();
    }

    /**
     * Mutated ClientHellos and random records after a good handshake: every one ends in a clean
     * failure or a wait for more input, never an exception or a crash (the native provider parses
     * them in C), and every buffer and session is given back.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void fuzzedHellosAndRecordsFailCleanly(String protocol) throws Exception {
        java.util.Random random = new java.util.Random(protocol.hashCode());
        TestClient probe = newClient(protocol);
        probe.step();
        byte[] hello = probe.takeOutput();
        for (int round = 0; round < 300; round++) {
            byte[] mutated = hello.clone();
            int flips = 1 + random.nextInt(8);
            for (int i = 0; i < flips; i++) {
                mutated[1 + random.nextInt(mutated.length - 1)] = (byte) random.nextInt(256); // byte 0 stays "handshake"
            }
            byte[] cut = Arrays.copyOf(mutated, 1 + random.nextInt(mutated.length));
            TlsEngine server = newServer();
            feed(server, cut);
            drain(server);
            // No client Finished was sent, so the engine can only be waiting or have failed.
            assertThat(server.state() == TlsEngine.State.HANDSHAKING || server.failure() != null)
                    .as("round %d: %s, failure %s", round, server.state(), server.failure()).isTrue();
            server.release();
        }
        for (int round = 0; round < 100; round++) {
            TlsEngine server = newServer();
            completeHandshake(server, newClient(protocol));
            byte[] garbage = new byte[1 + random.nextInt(3000)];
            random.nextBytes(garbage);
            if (round % 2 == 0) {
                garbage[0] = 23; // application_data
                garbage[1] = 3;
                garbage[2] = 3;
            }
            feed(server, garbage);
            drain(server);
            assertThat(server.state()).as("round %d", round).isIn(TlsEngine.State.OPEN, TlsEngine.State.CLOSING,
                    TlsEngine.State.CLOSED);
            if (server.state() != TlsEngine.State.OPEN) {
                assertThat(server.failure()).isNotNull();
            }
            server.release();
        }
        assertThat(pool.outstanding()).isZero();
        assertThat(tls.liveSessions()).isZero();
    }

    /**
     * A record header announcing more than a pool buffer holds (but under the 2^14 + 2048 that TLS
     * 1.2 allows, so JSSE just waits for the rest) must fail the connection once the held buffer is
     * full. Before the fix the engine reported no room and no plaintext forever: the transport read
     * 0 bytes, the socket stayed readable and the loop spun until a timeout. Found by TlsFuzzTest
     * (JDK, TLSv1.2, case seed 6657508957995514905); both when handshaking and when open.
     */
    @ParameterizedTest(name = "open {0}")
    @ValueSource(booleans = {false, true})
    void recordLongerThanAPoolBufferFailsInsteadOfStalling(boolean open) throws Exception {
        TlsEngine server = newServer();
        if (open) {
            completeHandshake(server, newClient("TLSv1.2"));
        }
        int length = pool.bufferSize() + 100; // 18,020: over a pool buffer, under 18,432
        byte[] record = new byte[5 + length];
        record[0] = (byte) (open ? 23 : 22); // while handshaking: what looks like the start of a long ClientHello
        record[1] = 3;
        record[2] = 3;
        record[3] = (byte) (length >> 8);
        record[4] = (byte) length;
        ByteBuffer src = ByteBuffer.wrap(record);
        for (int i = 0; i < 100 && src.hasRemaining() && server.failure() == null; i++) {
            int room = server.inboundRoom();
            assertThat(room > 0 || server.hasPlaintext()).as("no room, nothing to read, no failure: a stall").isTrue();
            ByteBuffer slice = src.slice();
            slice.limit(Math.min(Math.min(room, 4096), src.remaining()));
            server.receive(slice);
            src.position(src.position() + slice.position());
        }
        assertThat(server.failure()).isNotNull();
        drain(server);
        assertThat(server.send(ByteBuffer.wrap(REQUEST))).isEqualTo(-1);
        server.release();
        assertThat(pool.outstanding()).isZero();
    }

    @Test
    void renegotiationOnTls12IsRefused() throws Exception {
        TlsEngine server = newServer();
        TestClient client = newClient("TLSv1.2");
        completeHandshake(server, client);
        client.engine.beginHandshake(); // asks for a new handshake on the open connection
        client.step();
        TlsEngine.Result result = server.receive(ByteBuffer.wrap(client.takeOutput()));

        assertThat(result).isEqualTo(TlsEngine.Result.FAILED);
        assertThat(server.failure()).isEqualTo(TlsEngine.Failure.RENEGOTIATION_REFUSED);
        assertThat(server.send(ByteBuffer.wrap(REQUEST))).isEqualTo(-1);
        drain(server);
        assertThat(server.state()).isEqualTo(TlsEngine.State.CLOSED);
        server.release();
        assertThat(pool.outstanding()).isZero();
    }

    @Test
    void handshakeDeadlineUsesTheLoopClock() throws Exception {
        TlsEngine server = newServer();
        TestClient client = newClient("TLSv1.3");
        client.step();
        feed(server, client.takeOutput());
        assertThat(server.handshakeExpired(START + HANDSHAKE_TIMEOUT.toNanos() - 1)).isFalse();
        assertThat(server.state()).isEqualTo(TlsEngine.State.HANDSHAKING);

        assertThat(server.handshakeExpired(START + HANDSHAKE_TIMEOUT.toNanos())).isTrue();
        assertThat(server.failure()).isEqualTo(TlsEngine.Failure.HANDSHAKE_TIMEOUT);
        assertThat(server.state()).isEqualTo(TlsEngine.State.CLOSED);
        assertThat(pool.outstanding()).isZero();
        server.release();
    }

    @Test
    void deadlineDoesNotApplyOnceOpen() throws Exception {
        TlsEngine server = newServer();
        completeHandshake(server, newClient("TLSv1.3"));
        assertThat(server.handshakeExpired(START + Duration.ofDays(1).toNanos())).isFalse();
        assertThat(server.state()).isEqualTo(TlsEngine.State.OPEN);
        server.release();
    }

    @Test
    void closeNotifyFromClientEndsInputAndKeepsPlaintextReadable() throws Exception {
        TlsEngine server = newServer();
        TestClient client = newClient("TLSv1.3");
        completeHandshake(server, client);
        client.send(REQUEST);
        client.step();
        client.closeOutbound();
        client.step();
        TlsEngine.Result result = server.receive(ByteBuffer.wrap(client.takeOutput()));

        assertThat(result).isEqualTo(TlsEngine.Result.INBOUND_CLOSED);
        assertThat(server.inboundClosed()).isTrue();
        readAll(server);
        assertThat(plaintext.toByteArray()).isEqualTo(REQUEST);
        // TLS 1.3 allows a half-close (RFC 8446 §6.1): the response can still go out.
        assertThat(server.send(ByteBuffer.wrap(REQUEST))).isEqualTo(REQUEST.length);
        server.closeOutbound();
        client.fromServer.put(drain(server));
        client.step();
        assertThat(client.received.toByteArray()).isEqualTo(REQUEST);
        assertThat(client.engine.isInboundDone()).isTrue();
        assertThat(server.state()).isEqualTo(TlsEngine.State.CLOSED);
        server.release();
        assertThat(pool.outstanding()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void handshakeTasksRunOnAnotherThreadWhileTheEngineWaits(String protocol) throws Exception {
        assumeDelegatedTasks();
        java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newSingleThreadExecutor(
                runnable -> new Thread(runnable, "tls-task-test"));
        java.util.concurrent.LinkedBlockingQueue<Runnable> loopQueue = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.List<String> taskThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
        int[] callbacks = {0};
        try {
            TlsEngine server = new TlsEngine(tls.newSession(), pool, START + HANDSHAKE_TIMEOUT.toNanos(),
                    (tasks, done) -> executor.execute(() -> {
                        taskThreads.add(Thread.currentThread().getName());
                        tasks.run();
                        loopQueue.add(done); // the loop's task queue, drained below on this thread
                    }),
                    () -> callbacks[0]++);
            TestClient client = newClient(protocol);
            for (int i = 0; i < 100 && server.state() == TlsEngine.State.HANDSHAKING; i++) {
                client.step();
                feed(server, client.takeOutput());
                while (server.tasksRunning()) {
                    assertThat(server.resume()).isEqualTo(TlsEngine.Result.TASKS_RUNNING);
                    assertThat(server.send(ByteBuffer.wrap(REQUEST))).as("nothing is sent meanwhile").isZero();
                    Runnable done = loopQueue.poll(5, java.util.concurrent.TimeUnit.SECONDS);
                    assertThat(done).as("tasks finished within 5 s").isNotNull();
                    done.run();
                }
                client.fromServer.put(drain(server));
            }
            client.step();
            assertThat(client.failure).isNull();
            assertThat(server.state()).isEqualTo(TlsEngine.State.OPEN);
            assertThat(taskThreads).isNotEmpty().containsOnly("tls-task-test");
            assertThat(callbacks[0]).isEqualTo(taskThreads.size());
            assertEcho(server, client);
            server.release();
            assertThat(pool.outstanding()).isZero();
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void releasedWhileTasksRunTheEngineIsDroppedAndTheCallbackIgnored() throws Exception {
        assumeDelegatedTasks();
        java.util.concurrent.CountDownLatch tasksMayRun = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.LinkedBlockingQueue<Runnable> loopQueue = new java.util.concurrent.LinkedBlockingQueue<>();
        Thread[] worker = new Thread[1];
        int[] callbacks = {0};
        TlsEngine server = new TlsEngine(tls.newSession(), pool, START + HANDSHAKE_TIMEOUT.toNanos(),
                (tasks, done) -> {
                    worker[0] = new Thread(() -> {
                        try {
                            tasksMayRun.await(5, java.util.concurrent.TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        tasks.run();
                        loopQueue.add(done);
                    });
                    worker[0].start();
                },
                () -> callbacks[0]++);
        TestClient client = newClient("TLSv1.3");
        client.step();
        feed(server, client.takeOutput());
        assertThat(server.tasksRunning()).isTrue();
        server.release(); // e.g. the handshake deadline passed
        tasksMayRun.countDown();
        Runnable done = loopQueue.poll(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(done).isNotNull();
        done.run();
        assertThat(callbacks[0]).as("no callback into a closed connection").isZero();
        assertThat(server.state()).isEqualTo(TlsEngine.State.CLOSED);
        assertThat(pool.outstanding()).isZero();
        worker[0].join(5000);
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Gives bytes to the engine as the transport would: never more than its room, reading plaintext out. */
    /**
     * One pool buffer of plaintext becomes a full record and a short one. With outbound buffers of
     * twice the size both records wait together (one socket write); with same-size buffers the
     * engine stops after the first and the caller must write twice.
     */
    @Test
    void aDoubleSizeOutPoolTakesAWholePoolBufferOfPlaintextAtOnce() throws Exception {
        byte[] body = new byte[pool.bufferSize()];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        BufferPool outPool = BufferPool.heap(2 * pool.bufferSize(), 4);
        TlsEngine coalescing = new TlsEngine(tls.newSession(), pool, outPool, START + HANDSHAKE_TIMEOUT.toNanos(),
                null, null);
        TestClient client = newClient("TLSv1.3");
        client.step();
        completeHandshake(coalescing, client);

        assertThat(coalescing.send(ByteBuffer.wrap(body))).as("all plaintext taken in one call").isEqualTo(body.length);
        ByteBuffer socket = ByteBuffer.allocate(2 * pool.bufferSize());
        int written = coalescing.drainTo(socket);
        assertThat(coalescing.hasPendingOutput()).as("one drain (one socket write) took both records").isFalse();
        assertThat(written).isGreaterThan(body.length);
        client.fromServer.put(socket.flip());
        client.step();
        assertThat(client.received.toByteArray()).endsWith(body);
        coalescing.release();
        assertThat(outPool.outstanding()).isZero();

        TlsEngine plain = newServer();
        TestClient other = newClient("TLSv1.3");
        other.step();
        completeHandshake(plain, other);
        assertThat(plain.send(ByteBuffer.wrap(body))).as("same-size buffers: one record, then a flush").isLessThan(body.length);
        plain.release();
        assertThat(pool.outstanding()).isZero();
    }

    private void feed(TlsEngine server, byte[] bytes) {
        ByteBuffer src = ByteBuffer.wrap(bytes);
        for (int i = 0; i < 10_000 && src.hasRemaining(); i++) {
            int room = server.inboundRoom();
            if (room == 0) {
                readAll(server);
                continue;
            }
            ByteBuffer slice = src.slice();
            slice.limit(Math.min(room, src.remaining()));
            server.receive(slice);
            src.position(src.position() + slice.position());
            readAll(server);
        }
        assertThat(src.hasRemaining()).isFalse();
    }

    private void readAll(TlsEngine server) {
        ByteBuffer dst = ByteBuffer.allocate(4096);
        for (int i = 0; i < 10_000; i++) {
            dst.clear();
            int count = server.readPlaintext(dst);
            if (count == 0) {
                if (server.hasHeldInput() && server.inboundRoom() > 0 && server.resume() == TlsEngine.Result.NEED_INPUT
                        && !server.hasPlaintext()) {
                    return;
                }
                if (!server.hasPlaintext()) {
                    return;
                }
                continue;
            }
            plaintext.write(dst.array(), 0, count);
        }
    }

    private static byte[] drain(TlsEngine server) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer dst = ByteBuffer.allocate(32 * 1024);
        for (int i = 0; i < 1_000; i++) {
            dst.clear();
            int count = server.drainTo(dst);
            if (count == 0) {
                if (server.state() == TlsEngine.State.HANDSHAKING || server.outputBlocked()) {
                    server.resume();
                    if (server.hasPendingOutput()) {
                        continue;
                    }
                }
                break;
            }
            out.write(dst.array(), 0, count);
        }
        return out.toByteArray();
    }

    private void completeHandshake(TlsEngine server, TestClient client) {
        for (int i = 0; i < 100; i++) {
            client.step();
            byte[] out = client.takeOutput();
            feed(server, out);
            byte[] back = drain(server);
            client.fromServer.put(back);
            if (out.length == 0 && back.length == 0) {
                break;
            }
        }
        client.step();
        assertThat(client.failure).isNull();
        assertThat(server.state()).isEqualTo(TlsEngine.State.OPEN);
        assertThat(client.engine.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
        assertThat(pool.outstanding()).as("an idle open connection holds no buffer").isZero();
    }

    private void assertEcho(TlsEngine server, TestClient client) {
        plaintext.reset();
        client.send(REQUEST);
        client.step();
        feed(server, client.takeOutput());
        assertThat(plaintext.toByteArray()).isEqualTo(REQUEST);
        assertThat(server.send(ByteBuffer.wrap(REQUEST))).isEqualTo(REQUEST.length);
        client.fromServer.put(drain(server));
        client.step();
        assertThat(client.received.toByteArray()).endsWith(REQUEST);
        plaintext.reset();
    }
}
