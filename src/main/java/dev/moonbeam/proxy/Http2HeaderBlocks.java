package dev.moonbeam.proxy;

import dev.moonbeam.h2.HpackDecoder;
import dev.moonbeam.h2.HpackSink;
import dev.moonbeam.h2.HpackStatus;
import dev.moonbeam.h2.RequestHeadBuilder;
import java.nio.ByteBuffer;

/**
 * Decodes a connection's request header blocks (RFC 9113 §4.3, RFC 7541): into a stream's HTTP/1.1
 * request head, into trailer field lines, or only to keep the HPACK context in step (a block for a
 * refused or reset stream must still be decoded). Every outcome is a status; {@link Http2Inbound}
 * turns it into a stream or connection error.
 *
 * <p>Loop-owned, one per {@link Http2Connection}, held by its {@link Http2Inbound} (the decoder's
 * dynamic table is the connection's); the head builder is the loop's, shared because a block
 * becomes a head within one call.
 */
final class Http2HeaderBlocks implements HpackSink {
    /** What a block turned into. */
    enum Outcome {
        /** A head (or trailers) ready for the stream. */
        OK,
        /** Invalid HPACK: a connection error (COMPRESSION_ERROR). */
        COMPRESSION_ERROR,
        /** Over the header-list limit or the head buffer: 431 on the stream. */
        TOO_LARGE,
        /** RFC 9113 §8.1.1: a stream error (PROTOCOL_ERROR), never forwarded. */
        MALFORMED
    }

    private enum Target { DISCARD, HEAD, TRAILERS }

    private final HpackDecoder decoder;
    private final RequestHeadBuilder headBuilder;
    private Target target = Target.DISCARD;
    private Http2Stream trailersFor;
    private boolean trailersMalformed;

    Http2HeaderBlocks(int tableSize, int maxHeaderListBytes, RequestHeadBuilder headBuilder) {
        this.decoder = new HpackDecoder(tableSize, maxHeaderListBytes);
        this.headBuilder = headBuilder;
    }

    /** A request's first block: the HTTP/1.1 head is written into the stream's buffer. */
    Outcome requestHead(Http2Stream stream, ByteBuffer block, boolean endStream) {
        headBuilder.begin(stream.in);
        HpackStatus decoded = decode(Target.HEAD, block);
        if (decoded == HpackStatus.COMPRESSION_ERROR) {
            return Outcome.COMPRESSION_ERROR;
        }
        RequestHeadBuilder.Result built = headBuilder.finish(endStream);
        if (decoded == HpackStatus.HEADER_LIST_TOO_LARGE || built == RequestHeadBuilder.Result.TOO_LARGE) {
            return Outcome.TOO_LARGE;
        }
        if (built == RequestHeadBuilder.Result.MALFORMED) {
            return Outcome.MALFORMED;
        }
        stream.bodyFraming(headBuilder.contentLength(), headBuilder.chunked(), endStream);
        return Outcome.OK;
    }

    /** Why the last head was malformed, for the log. */
    String malformedReason() {
        return headBuilder.errorReason();
    }

    /**
     * Trailers (RFC 9113 §8.1): checked like any field and, where the body goes to the backend
     * chunked, kept as field lines for its last chunk.
     */
    Outcome trailers(Http2Stream stream, ByteBuffer block) {
        trailersFor = stream;
        trailersMalformed = false;
        try {
            if (decode(Target.TRAILERS, block) == HpackStatus.COMPRESSION_ERROR) {
                return Outcome.COMPRESSION_ERROR;
            }
        } finally {
            trailersFor = null;
        }
        return trailersMalformed ? Outcome.MALFORMED : Outcome.OK;
    }

    /** Only for the HPACK context; false when the block is invalid (a connection error). */
    boolean discard(ByteBuffer block) {
        return decode(Target.DISCARD, block) != HpackStatus.COMPRESSION_ERROR;
    }

    String lastError() {
        return decoder.lastError();
    }

    private HpackStatus decode(Target into, ByteBuffer block) {
        target = into;
        try {
            return decoder.decode(block, this);
        } finally {
            target = Target.DISCARD;
        }
    }

    @Override
    public void header(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen,
            boolean neverIndexed) {
        switch (target) {
            case HEAD -> headBuilder.field(name, nameOff, nameLen, value, valueOff, valueLen);
            case TRAILERS -> trailerField(name, nameOff, nameLen, value, valueOff, valueLen);
            case DISCARD -> { }
            default -> throw new IllegalStateException("header block target " + target);
        }
    }

    private void trailerField(byte[] name, int nameOff, int nameLen, byte[] value, int valueOff, int valueLen) {
        if (!RequestHeadBuilder.isValidTrailer(name, nameOff, nameLen, value, valueOff, valueLen)) {
            trailersMalformed = true;
            return;
        }
        if (!trailersFor.carriesTrailers()) {
            return; // a Content-Length body cannot carry them to the backend: dropped
        }
        ByteBuffer lines = trailersFor.trailerFields();
        if (lines.remaining() >= nameLen + valueLen + 4) {
            lines.put(name, nameOff, nameLen).put((byte) ':').put((byte) ' ').put(value, valueOff, valueLen)
                    .put((byte) '\r').put((byte) '\n');
        } // beyond the bound they are dropped, as a proxy may (RFC 9110 §6.5.1)
    }
}
