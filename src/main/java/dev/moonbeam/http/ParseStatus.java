package dev.moonbeam.http;

/**
 * What a parser made of the bytes it was given; the same for requests and responses.
 *
 * <ul>
 *   <li>{@link #NEED_MORE}: every available byte was consumed (or none could be); read more.
 *   <li>{@link #HEAD_COMPLETE}: the head is parsed and valid; {@code head()} may be read. Returned
 *       once per message; the next {@code parse} call moves into the body.
 *   <li>{@link #BODY}: body bytes of this message were consumed; relay the raw bytes between the
 *       old and the new position unchanged.
 *   <li>{@link #MESSAGE_COMPLETE}: the message ended; bytes after the position belong to the
 *       next message and are never consumed until {@code reset()}.
 *   <li>{@link #ERROR}: the input is invalid; see {@code errorStatus()}/{@code errorReason()}. The
 *       connection must close.
 * </ul>
 */
public enum ParseStatus {
    NEED_MORE,
    HEAD_COMPLETE,
    BODY,
    MESSAGE_COMPLETE,
    ERROR
}
