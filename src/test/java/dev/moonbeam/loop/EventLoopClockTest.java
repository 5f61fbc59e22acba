package dev.moonbeam.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The loop's clock as handlers see it: read when the round's work begins, not before select slept. */
class EventLoopClockTest {

    @Test
    void aHandlerWokenAfterALongSelectSeesTheTimeItWasWoken() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        EventLoop loop = new EventLoop("clock-test", clock::get, BufferPool.withDefaults());
        Pipe pipe = Pipe.open();
        CompletableFuture<Long> seen = new CompletableFuture<>();
        try {
            pipe.source().configureBlocking(false);
            loop.start();
            CompletableFuture<Void> registered = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    loop.register(pipe.source(), SelectionKey.OP_READ, new IoHandler() {
                        @Override
                        public void onReady(SelectionKey key, int readyOps) throws Exception {
                            pipe.source().read(ByteBuffer.allocate(16));
                            seen.complete(loop.now());
                        }

                        @Override
                        public void abort(Throwable cause) {
                            seen.completeExceptionally(cause);
                        }
                    });
                    registered.complete(null);
                } catch (Exception e) {
                    registered.completeExceptionally(e);
                }
            });
            registered.get(5, TimeUnit.SECONDS);
            Thread.sleep(100); // the loop reads its clock and blocks in select (no timer: no limit)
            long woken = clock.addAndGet(TimeUnit.SECONDS.toNanos(5));
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
            // Before: the time select began (5 s earlier), so every timeout armed here was 5 s short.
            assertThat(seen.get(5, TimeUnit.SECONDS)).isEqualTo(woken);
        } finally {
            loop.shutdown();
            loop.awaitTermination(5, TimeUnit.SECONDS);
            pipe.sink().close();
            pipe.source().close();
        }
    }
}
