package dev.moonbeam.http;

import java.util.EnumSet;
import java.util.Set;

/**
 * Size limits and enabled leniencies for both parsers. Immutable; the leniency set is copied.
 *
 * @param maxRequestLineBytes longest request line (or status line), without CRLF; over it: 414
 *     (like nginx's large_client_header_buffers, 8 KiB)
 * @param maxHeaderBytes whole head including the start line and CRLFs; over it: 431
 * @param maxHeaderCount header fields per message (like HAProxy's tune.http.maxhdr); over: 431
 * @param maxChunkExtensionBytes bytes of chunk extensions on one chunk-size line; over: 400
 * @param maxBodyBytes request body limit, 0 = unlimited; over it: 413
 * @param leniencies deviations from strict parsing, empty by default
 */
public record HttpLimits(
        int maxRequestLineBytes,
        int maxHeaderBytes,
        int maxHeaderCount,
        int maxChunkExtensionBytes,
        long maxBodyBytes,
        Set<Leniency> leniencies) {

    public static final HttpLimits DEFAULTS =
            new HttpLimits(8192, 32768, 100, 4096, 0, EnumSet.noneOf(Leniency.class));

    public HttpLimits {
        if (maxRequestLineBytes < 16) {
            throw new IllegalArgumentException("maxRequestLineBytes must be >= 16");
        }
        if (maxHeaderBytes < maxRequestLineBytes) {
            throw new IllegalArgumentException("maxHeaderBytes must be >= maxRequestLineBytes");
        }
        if (maxHeaderCount < 1) {
            throw new IllegalArgumentException("maxHeaderCount must be >= 1");
        }
        if (maxChunkExtensionBytes < 0) {
            throw new IllegalArgumentException("maxChunkExtensionBytes must be >= 0");
        }
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes must be >= 0 (0 = unlimited)");
        }
        leniencies = leniencies.isEmpty()
                ? Set.of()
                : Set.copyOf(EnumSet.copyOf(leniencies));
    }

    public boolean allows(Leniency leniency) {
        return leniencies.contains(leniency);
    }

    public HttpLimits withLeniencies(Set<Leniency> newLeniencies) {
        return new HttpLimits(maxRequestLineBytes, maxHeaderBytes, maxHeaderCount,
                maxChunkExtensionBytes, maxBodyBytes, newLeniencies);
    }

    public HttpLimits withMaxBodyBytes(long newMaxBodyBytes) {
        return new HttpLimits(maxRequestLineBytes, maxHeaderBytes, maxHeaderCount,
                maxChunkExtensionBytes, newMaxBodyBytes, leniencies);
    }
}
