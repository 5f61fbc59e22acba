package dev.moonbeam.tls;

import io.netty.internal.tcnative.SessionTicketKey;
import java.security.SecureRandom;

/**
 * The process's TLS session-ticket keys (RFC 5077, RFC 8446 §4.6.1): random, never written
 * anywhere, shared by every native TLS context so a ticket issued before a reload, or by another
 * event loop, still resumes. The current key encrypts new tickets; the previous one still decrypts
 * tickets issued before the last rotation, so a ticket stays usable for between one and two
 * rotation intervals.
 *
 * <p>Thread-safe: rotation is lazy, done by whichever loop thread first notices it is due.
 */
final class TicketKeys {
    private static final int NAME_BYTES = 16;
    private static final int KEY_BYTES = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final long rotationNanos;
    /** Newest first; replaced whole on rotation. */
    private volatile SessionTicketKey[] keys;
    private volatile long rotatedAtNanos;
    private volatile int generation;

    TicketKeys(long rotationNanos) {
        this.rotationNanos = rotationNanos;
        this.keys = new SessionTicketKey[] {newKey()};
        this.rotatedAtNanos = System.nanoTime();
    }

    /** Rotates when due; returns the generation, which changes at every rotation. */
    int refresh(long nowNanos) {
        if (nowNanos - rotatedAtNanos >= rotationNanos) {
            synchronized (this) {
                if (nowNanos - rotatedAtNanos >= rotationNanos) {
                    keys = new SessionTicketKey[] {newKey(), keys[0]};
                    rotatedAtNanos = nowNanos;
                    generation++;
                }
            }
        }
        return generation;
    }

    SessionTicketKey[] keys() {
        return keys;
    }

    private static SessionTicketKey newKey() {
        return new SessionTicketKey(random(NAME_BYTES), random(KEY_BYTES), random(KEY_BYTES));
    }

    private static byte[] random(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
