package dev.moonbeam.h2;

/**
 * What {@link HpackDecoder#decode} made of a header block.
 *
 * <ul>
 *   <li>{@link #OK}: every field was delivered to the sink.
 *   <li>{@link #COMPRESSION_ERROR}: the block is not valid HPACK; the dynamic table can no longer
 *       be trusted, so this is a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3). The
 *       decoder refuses every later block.
 *   <li>{@link #HEADER_LIST_TOO_LARGE}: the block is valid but its fields exceed the header list
 *       limit (RFC 9113 §6.5.2). Fields up to the limit may have been delivered, none after it.
 *       The whole block was still decoded, so the dynamic table is in sync and the connection
 *       may continue: answer the stream with 431 (or reset it).
 * </ul>
 */
public enum HpackStatus {
    OK,
    COMPRESSION_ERROR,
    HEADER_LIST_TOO_LARGE
}
