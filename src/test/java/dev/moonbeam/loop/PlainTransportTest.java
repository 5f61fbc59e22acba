package dev.moonbeam.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PlainTransportTest {
    @Test
    void passesBytesThroughAndHoldsNothing() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ReadableByteChannel in = Channels.newChannel(new ByteArrayInputStream("hello".getBytes(StandardCharsets.US_ASCII)));
        WritableByteChannel out = Channels.newChannel(sink);
        ByteChannel channel = new ByteChannel() {
            @Override
            public int read(ByteBuffer dst) throws java.io.IOException {
                return in.read(dst);
            }

            @Override
            public int write(ByteBuffer src) throws java.io.IOException {
                return out.write(src);
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        Transport transport = new PlainTransport(channel);
        ByteBuffer dst = ByteBuffer.allocate(16);

        assertThat(transport.read(dst)).isEqualTo(5);
        assertThat(transport.read(dst)).isEqualTo(-1);
        assertThat(transport.write(ByteBuffer.wrap("world".getBytes(StandardCharsets.US_ASCII)))).isEqualTo(5);
        assertThat(sink.toString(StandardCharsets.US_ASCII)).isEqualTo("world");
        assertThat(transport.flush()).isTrue();
        assertThat(transport.wantsRead()).isFalse();
        assertThat(transport.hasBufferedInput()).isFalse();
        assertThat(transport.wantsWrite()).isFalse();
        transport.shutdownOutput();
        transport.release();
        transport.release();
    }
}
