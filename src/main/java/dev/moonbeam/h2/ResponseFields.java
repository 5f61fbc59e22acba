package dev.moonbeam.h2;

import dev.moonbeam.http.HeadRewriter;
import dev.moonbeam.http.HttpHead;
import java.nio.ByteBuffer;

/**
 * Encodes the fields of a backend's HTTP/1.1 response head for HTTP/2 (after {@code :status},
 * which the caller writes): names lowercased (RFC 9113 §8.2.1), connection-specific fields and
 * those named in Connection dropped (§8.2.2), everything else in order.
 *
 * <p>Owned by one connection's loop thread (the name scratch is reused).
 */
public final class ResponseFields {
    private final byte[] name = new byte[256];

    /** @throws java.nio.BufferOverflowException when the block does not fit {@code out} */
    public void encode(HttpHead response, HpackEncoder encoder, ByteBuffer out) {
        byte[] bytes = response.bytes();
        for (int i = 0; i < response.headerCount(); i++) {
            switch (response.name(i)) {
                case CONNECTION, KEEP_ALIVE, PROXY_CONNECTION, TRANSFER_ENCODING, UPGRADE, TE -> {
                    continue;
                }
                case OTHER -> {
                    if (HeadRewriter.listedInConnection(response, i)) {
                        continue;
                    }
                }
                default -> { }
            }
            int start = response.nameStart(i);
            int length = response.nameEnd(i) - start;
            byte[] lower = length <= name.length ? name : new byte[length];
            for (int k = 0; k < length; k++) {
                byte b = bytes[start + k];
                lower[k] = b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
            }
            int valueStart = response.valueStart(i);
            encoder.header(lower, 0, length, bytes, valueStart, response.valueEnd(i) - valueStart, out);
        }
    }
}
