package dev.moonbeam.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
    @Test
    void directAndHeapPoolsHandOutTheirKindAndCountWhatIsOut() {
        BufferPool direct = new BufferPool(1024, 2);
        BufferPool heap = BufferPool.heap(1024, 2);
        ByteBuffer a = direct.acquire();
        ByteBuffer b = heap.acquire();
        assertThat(a.isDirect()).isTrue();
        assertThat(b.isDirect()).isFalse();
        assertThat(direct.outstanding()).isOne();
        assertThat(heap.outstanding()).isOne();
        assertThatThrownBy(() -> heap.release(a)).isInstanceOf(IllegalArgumentException.class);
        direct.release(a);
        heap.release(b);
        assertThat(direct.outstanding()).isZero();
        assertThat(heap.outstanding()).isZero();
        assertThat(heap.acquire()).isSameAs(b); // reused, LIFO
    }

    @Test
    void releaseZeroedClearsOnlyTheDirtyPrefix() {
        BufferPool pool = BufferPool.heap(8192, 1);
        ByteBuffer buffer = pool.acquire();
        for (int i = 0; i < 8192; i++) {
            buffer.put((byte) 7);
        }
        pool.releaseZeroed(buffer, 5000);
        ByteBuffer again = pool.acquire();
        assertThat(again).isSameAs(buffer);
        for (int i = 0; i < 5000; i++) {
            assertThat(again.get(i)).isZero();
        }
        assertThat(again.get(5000)).isEqualTo((byte) 7);
        assertThat(again.position()).isZero();
        assertThat(again.limit()).isEqualTo(8192);
    }
}
