package dev.moonbeam.h2;

/**
 * What {@link FrameReader#read} made of the bytes it was given.
 *
 * <ul>
 *   <li>{@link #NEED_MORE}: everything actionable was consumed and reported; what is left between
 *       position and limit (at most {@link FrameReader#MAX_UNCONSUMED_BYTES}) is the start of a
 *       frame header or of fixed frame fields. Compact, read more, call again.
 *   <li>{@link #ERROR}: a connection error was reported to
 *       {@link FrameListener#connectionError}; send GOAWAY with its code and close. Terminal.
 *   <li>{@link #STOPPED}: the connection called {@link FrameReader#stop()}. Terminal.
 * </ul>
 */
public enum ReadStatus {
    NEED_MORE,
    ERROR,
    STOPPED
}
