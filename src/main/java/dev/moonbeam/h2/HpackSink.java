package dev.moonbeam.h2;

/**
 * Receives the fields of a header block from {@link HpackDecoder}, in order.
 *
 * <p>The arrays belong to the decoder (its scratch buffers or its tables) and are valid only
 * during the call: copy what you keep, never modify them. Called on the decoder's thread.
 */
public interface HpackSink {
    /**
     * One field. {@code neverIndexed} is set for the never-indexed literal representation
     * (RFC 7541 §6.2.3): an intermediary must forward the field with the same representation.
     */
    void header(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen,
            boolean neverIndexed);
}
