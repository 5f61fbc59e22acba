package dev.moonbeam.proxy;

/**
 * A client connection that may hold a slot of the client connection limit while doing nothing:
 * what {@link Worker#closeLongestIdle} may close to make room. Loop-owned.
 */
interface IdleConnection {
    /** True while it waits for its client with nothing in flight, so closing it loses nothing. */
    boolean isIdle();

    /** When it last became idle; the earliest is the one idle longest. */
    long idleSinceNanos();

    /** Closes it at once, giving its slot back. */
    void close();
}
