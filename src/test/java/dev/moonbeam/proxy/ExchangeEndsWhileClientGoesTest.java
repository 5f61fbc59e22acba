package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.balance.BackendQueue;
import dev.moonbeam.balance.BackendSpec;
import dev.moonbeam.balance.Routing;
import dev.moonbeam.balance.RoutingTable;
import dev.moonbeam.config.Networks;
import dev.moonbeam.http.ForwardContext;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.HttpLimits;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.http.RequestParser;
import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.loop.Clock;
import dev.moonbeam.loop.EventLoop;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An {@link Exchange} whose request ends with an error page while its client side goes away at
 * once: the client could not get a buffer for the page, so it closes and gives the exchange back
 * to the worker's pool (unbinding it), as {@link ClientConnection#respondAndClose} does. Driven on
 * a real loop and worker with a {@link ClientSide} that has no socket; every step runs on the loop
 * thread and every wait is bounded.
 */
class ExchangeEndsWhileClientGoesTest {
    private static final long MILLI = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final String REQUEST = "GET /r HTTP/1.1\r\nHost: test\r\n\r\n";

    private EventLoop loop;
    private Worker worker;
    private BackendQueue queue;
    private ProxySettings settings;
    private ServerSocket silentBackend;

    @AfterEach
    void tearDown() throws Exception {
        if (loop != null) {
            loop.shutdown();
            assertThat(loop.awaitTermination(5, TimeUnit.SECONDS)).as("loop stopped").isTrue();
        }
        if (silentBackend != null) {
            silentBackend.close();
        }
    }

    /** One loop and worker over {@code backend}; requests that find it full wait up to {@code queueTimeoutNanos}. */
    private void start(BackendSpec backend, long queueTimeoutNanos, long backendResponseNanos) throws IOException {
        RoutingTable routing = new RoutingTable(Routing.of(List.of(backend)));
        settings = new ProxySettings(HttpLimits.DEFAULTS, HttpLimits.DEFAULTS, 10 * SECOND, 10 * SECOND, 10 * SECOND,
                5 * SECOND, backendResponseNanos, 10 * SECOND, 4, Networks.NONE, null, 0, Networks.NONE, 100, false, 0);
        loop = new EventLoop("exchange-test", Clock.SYSTEM, BufferPool.withDefaults());
        worker = new Worker(loop, routing, () -> settings, () -> settings);
        queue = new BackendQueue(() -> routing.current().balancer(), 8, queueTimeoutNanos);
        worker.queue(queue);
        loop.start();
    }

    /** A backend capped at one request in flight, whose one slot a request elsewhere holds. */
    private Backend startWithFullBackend(long queueTimeoutNanos) throws IOException {
        start(new BackendSpec("127.0.0.1:9", new InetSocketAddress(InetAddress.getLoopbackAddress(), 9), 1, 1),
                queueTimeoutNanos, 10 * SECOND);
        Backend backend = worker.routing().current().backends().get(0);
        assertThat(backend.tryAcquire()).as("the other request's slot").isTrue();
        return backend;
    }

    /** Runs {@code step} on the loop thread and waits (bounded) for its result or failure. */
    private <T> T onLoop(Callable<T> step) throws Exception {
        CompletableFuture<T> done = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                done.complete(step.call());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return done.get(5, TimeUnit.SECONDS);
    }

    /** A new client connection with one complete request head, on a pooled exchange; loop thread. */
    private FakeClient connect() {
        RequestParser parser = worker.takeParser(settings);
        ByteBuffer head = ByteBuffer.wrap(REQUEST.getBytes(StandardCharsets.US_ASCII));
        assertThat(parser.parse(head)).isEqualTo(ParseStatus.HEAD_COMPLETE);
        FakeClient client = new FakeClient(parser, worker.takeExchange());
        client.exchange.bind(client, settings, "127.0.0.1".getBytes(StandardCharsets.US_ASCII));
        return client;
    }

    @Test
    void aQueuedRequestRefusedForWantOfBufferMemoryLeavesTheQueueAndItsExchangeCanWaitAgain() throws Exception {
        startWithFullBackend(30 * SECOND);
        FakeClient first = onLoop(() -> {
            FakeClient client = connect();
            client.exchange.begin();
            return client;
        });
        Exchange pooled = first.exchange;
        assertThat(onLoop(pooled::state)).isEqualTo(Exchange.State.QUEUED);
        assertThat(queue.length()).isEqualTo(1);

        // The client side found no buffer for the request (ClientConnection.outOfBufferMemory),
        // nor then for the 503 page: the connection closes and the exchange goes back to the pool.
        first.noBufferForErrorPage = true;
        assertThat(onLoop(pooled::outOfBufferMemory)).isTrue();
        assertThat(first.statuses).containsExactly(503);
        assertThat(first.exchange).as("exchange given back").isNull();
        assertThat(queue.length()).as("requests still waiting for a slot").isZero();

        // The next connection gets the same pooled exchange and must be able to wait again.
        FakeClient second = onLoop(() -> {
            FakeClient client = connect();
            client.exchange.begin();
            return client;
        });
        assertThat(second.exchange).as("the pooled exchange").isSameAs(pooled);
        assertThat(onLoop(pooled::state)).isEqualTo(Exchange.State.QUEUED);
        assertThat(queue.length()).isEqualTo(1);
        assertThat(second.statuses).isEmpty();

        onLoop(() -> {
            second.close();
            return null;
        });
        assertThat(queue.length()).isZero();
    }

    @Test
    void theQueueTimeoutAnswers503EvenWhenThePageClosesTheClientAtOnce() throws Exception {
        startWithFullBackend(50 * MILLI);
        FakeClient client = onLoop(() -> {
            FakeClient fake = connect();
            fake.noBufferForErrorPage = true;
            fake.exchange.begin();
            assertThat(fake.exchange.state()).isEqualTo(Exchange.State.QUEUED);
            return fake;
        });

        assertThat(client.answered.await(5, TimeUnit.SECONDS)).as("answered within 5 s").isTrue();
        // Read on the loop, so the timer callback that answered has returned.
        long failedTimers = onLoop(() -> loop.timers().failedCallbacks());
        assertThat(client.statuses).containsExactly(503);
        assertThat(client.exchange).as("exchange given back").isNull();
        assertThat(queue.timeoutCount()).isEqualTo(1);
        assertThat(queue.length()).isZero();
        assertThat(failedTimers).as("timer callbacks that threw").isZero();
    }

    @Test
    void theBackendResponseTimeoutAnswers504EvenWhenThePageClosesTheClientAtOnce() throws Exception {
        // Accepts connections into its backlog and never answers.
        silentBackend = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), silentBackend.getLocalPort());
        start(new BackendSpec("127.0.0.1:" + address.getPort(), address, 1), 30 * SECOND, 100 * MILLI);
        FakeClient client = onLoop(() -> {
            FakeClient fake = connect();
            fake.noBufferForErrorPage = true;
            fake.exchange.begin();
            fake.progress();
            return fake;
        });

        assertThat(client.answered.await(5, TimeUnit.SECONDS)).as("answered within 5 s").isTrue();
        long failedTimers = onLoop(() -> loop.timers().failedCallbacks());
        assertThat(client.statuses).containsExactly(504);
        assertThat(client.exchange).as("exchange given back").isNull();
        assertThat(worker.routing().current().backends().get(0).inflight()).as("slot released").isZero();
        assertThat(failedTimers).as("timer callbacks that threw").isZero();
    }

    /**
     * One HTTP/1.1 request with no socket: records the error statuses it was asked to send, and
     * closes the way {@link ClientConnection#close} does (abort the backend side, then give the
     * idle exchange back to the worker). With {@link #noBufferForErrorPage} it closes inside
     * {@link #respondAndClose}, as a connection that gets no buffer for the page does. Loop-owned.
     */
    private final class FakeClient implements ClientSide {
        private final RequestParser parser;
        private final ForwardContext forward = ForwardContext.of("127.0.0.1", ForwardContext.Scheme.HTTPS,
                ForwardContext.ForwardedHeaders.REPLACE);
        private final InetSocketAddress peer = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);
        final List<Integer> statuses = new ArrayList<>();
        final CountDownLatch answered = new CountDownLatch(1);
        /** Null once given back to the worker. */
        Exchange exchange;
        boolean noBufferForErrorPage;
        private boolean closed;

        FakeClient(RequestParser parser, Exchange exchange) {
            this.parser = parser;
            this.exchange = exchange;
        }

        @Override
        public RequestParser parser() {
            return parser;
        }

        @Override
        public ByteBuffer in() {
            return null;
        }

        @Override
        public boolean inputClosed() {
            return false;
        }

        @Override
        public ForwardContext forward() {
            return forward;
        }

        @Override
        public InetSocketAddress client() {
            return peer;
        }

        @Override
        public InetSocketAddress local() {
            return peer;
        }

        @Override
        public boolean readyForResponseHead() {
            return true;
        }

        @Override
        public int writeResponseHead(HttpHead request, HttpHead response) {
            throw new AssertionError("the silent backend sent a response");
        }

        @Override
        public int responseRoom() {
            return 4096;
        }

        @Override
        public void writeResponseBody(ByteBuffer source) {
            throw new AssertionError("the silent backend sent a body");
        }

        @Override
        public int writeRedirect(int httpsPort) {
            throw new AssertionError("not a redirecting listener");
        }

        @Override
        public boolean hasUnsentResponse() {
            return false;
        }

        @Override
        public void responseComplete(boolean requestComplete) {
            throw new AssertionError("no response completes here");
        }

        @Override
        public void enterTunnel() {
            throw new AssertionError("no tunnel here");
        }

        @Override
        public int writeTunnel(ByteBuffer from) {
            throw new AssertionError("no tunnel here");
        }

        @Override
        public void tunnelFinished() {
            throw new AssertionError("no tunnel here");
        }

        @Override
        public void respondAndClose(int status) {
            if (closed) {
                return;
            }
            statuses.add(status);
            answered.countDown();
            if (noBufferForErrorPage) {
                close();
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            exchange.abortBackend();
            if (exchange.isIdle()) {
                worker.giveBack(parser, exchange);
                exchange = null;
            }
        }

        /** As ClientConnection.progress moves the request: its (empty) body, the backend side, then interest. */
        @Override
        public void progress() {
            if (exchange != null) {
                exchange.forwardRequestBody();
                exchange.pump();
                exchange.updateInterest();
            }
        }
    }
}
