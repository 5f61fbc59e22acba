package dev.moonbeam.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.moonbeam.loop.BufferPool;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A handshake failure reports its own reason: one a callback left on this loop thread for another
 * connection (whose handshake failed another way) is not picked up.
 */
class NativeFailureReasonTest {
    @Test
    void aReasonLeftOnTheThreadByAnotherConnectionIsNotReported() throws Exception {
        ServerTls tls = TestProvider.NATIVE.create(List.of(Fixtures.ec()), TlsSettings.defaults());
        BufferPool pool = BufferPool.withDefaults();
        TlsEngine engine = new TlsEngine(tls.newSession(), pool, Long.MAX_VALUE);
        try {
            NativeServerTls.noteCallbackFailure("no certificate for stale.example matches");
            byte[] notAHello = new byte[64];
            notAHello[0] = 22; // a handshake record header with nonsense after it
            notAHello[1] = 3;
            notAHello[2] = 1;
            notAHello[4] = 59;
            engine.receive(ByteBuffer.wrap(notAHello));
            assertThat(engine.failure()).as("failure").isNotNull();
            assertThat(String.valueOf(engine.failureCause().getMessage())).doesNotContain("stale.example");
        } finally {
            engine.release();
            tls.retire();
        }
        assertThat(NativeServerTls.takeCallbackFailure()).as("nothing left behind").isNull();
    }
}
