package dev.moonbeam.proxy;

import dev.moonbeam.h2.Http2Settings;
import java.util.ArrayList;
import java.util.List;

/**
 * The streams of one HTTP/2 connection and what they may receive: the open streams (each bound to
 * one {@link Exchange}), spare {@link Http2Stream} objects for reuse, the ids seen
 * ({@link StreamIds}, the last stream id for GOAWAY), and the credit the client gets back as
 * request bodies leave for their backends (RFC 9113 §6.9). Also the per-pass work on the streams:
 * pumping their exchanges and freeing the finished ones.
 *
 * <p>Every loop here is indexed and every stream object is reused: this runs for each frame and
 * each pass, and an iterator or a new stream per request would be garbage per request.
 *
 * <p>Loop-owned, one per {@link Http2Connection}.
 */
final class Http2StreamTable {
    private final Http2Connection connection;
    private final Worker worker;
    private final ProxySettings settings;
    private final byte[] clientAddress;
    private final Http2Output output;
    private final Http2ReceiveWindow received;
    private final List<Http2Stream> streams = new ArrayList<>();
    private final List<Http2Stream> spareStreams = new ArrayList<>();
    private final StreamIds ids = new StreamIds();
    /** The highest stream id the client used (opened, refused or ignored): GOAWAY's last stream id (§6.8). */
    private int lastStreamId;
    /** A stream ended since the last sweep (or a finished one could not be freed yet). */
    private boolean sweepNeeded;
    /** The next pump visits every stream, not only those that want it (see {@link #pumpAll}). */
    private boolean pumpAll;

    Http2StreamTable(Http2Connection connection, Worker worker, ProxySettings settings, byte[] clientAddress,
            Http2Output output, Http2ReceiveWindow received) {
        this.connection = connection;
        this.worker = worker;
        this.settings = settings;
        this.clientAddress = clientAddress;
        this.output = output;
        this.received = received;
    }

    // ---- ids ----

    StreamIds ids() {
        return ids;
    }

    int lastStreamId() {
        return lastStreamId;
    }

    /** A client-initiated id above every earlier one (§5.1.1), whatever becomes of its stream. */
    void newLastStreamId(int streamId) {
        lastStreamId = streamId;
    }

    // ---- the table ----

    boolean isEmpty() {
        return streams.isEmpty();
    }

    int size() {
        return streams.size();
    }

    /** The open (not yet finished) stream with this id, or null. */
    Http2Stream find(int streamId) {
        for (int i = 0; i < streams.size(); i++) {
            Http2Stream stream = streams.get(i);
            if (stream.id == streamId && stream.state != Http2Stream.State.DONE) {
                return stream;
            }
        }
        return null;
    }

    /** Opens a stream with its exchange and parser from the worker; the head is built into its buffer next. */
    Http2Stream open(int streamId, long initialSendWindow) {
        ids.opened(streamId);
        Http2Stream stream = spareStreams.isEmpty() ? new Http2Stream(connection) : spareStreams.remove(spareStreams.size() - 1);
        Exchange exchange = worker.takeExchange();
        exchange.bind(stream, settings, clientAddress);
        stream.open(streamId, worker.takeParser(settings), exchange, initialSendWindow, Http2Connection.STREAM_WINDOW,
                settings.clientBodyNanos());
        streams.add(stream);
        return stream;
    }

    /**
     * SETTINGS_INITIAL_WINDOW_SIZE changed by {@code delta}: it applies to open streams too (§6.9.2).
     *
     * @return false when a window would overflow (a connection FLOW_CONTROL_ERROR); later streams are left as they were
     */
    boolean shiftSendWindows(long delta) {
        for (int i = 0; i < streams.size(); i++) {
            Http2Stream stream = streams.get(i);
            stream.sendWindow += delta;
            if (stream.sendWindow > Http2Settings.MAX_WINDOW_SIZE) {
                return false;
            }
        }
        return true;
    }

    // ---- each pass ----

    /**
     * The next pump visits every stream: room or window that any of them may have waited for came
     * free (bytes left the output, the client raised the connection window or the initial window).
     */
    void pumpAll() {
        pumpAll = true;
    }

    /**
     * Lets the streams move their bytes: a header block that waited for room, request body into the
     * exchange, the exchange's own relay. Visits only the streams that want it (something happened
     * to them, or they moved last time) unless {@link #pumpAll} was asked: with ten streams on a
     * connection, visiting all at every pass costs more than the work it finds. Stops if the
     * connection closed under it.
     *
     * @return true if anything moved
     */
    boolean pump() {
        boolean all = pumpAll;
        pumpAll = false;
        boolean moved = false;
        for (int i = 0; i < streams.size() && !connection.isClosed(); i++) {
            Http2Stream stream = streams.get(i);
            if (!all && !stream.pumpWanted) {
                continue;
            }
            stream.pumpWanted = false;
            if (pumpStream(stream)) {
                stream.pumpWanted = true; // one read per pass: it may move more next pass
                moved = true;
            }
        }
        return moved;
    }

    private boolean pumpStream(Http2Stream stream) {
        boolean moved = output.sendPendingBlock(stream);
        if (stream.state == Http2Stream.State.DONE || stream.exchange == null) {
            return moved;
        }
        moved |= stream.frameBody() > 0;
        Exchange exchange = stream.exchange;
        moved |= exchange.forwardRequestBody();
        if (stream.exchange != null) {
            moved |= exchange.pump();
            exchange.updateInterest();
        }
        return moved;
    }

    /** A stream ended: it is freed at the next sweep, outside the exchange's call stack. */
    void sweepLater() {
        sweepNeeded = true;
    }

    /**
     * Frees finished streams whose exchanges are idle (their backend side closed or pooled). When
     * the last one goes from an open connection, its keep-alive idle timeout starts.
     */
    void sweepIfNeeded() {
        if (!sweepNeeded) {
            return;
        }
        sweepNeeded = false;
        for (int i = streams.size() - 1; i >= 0; i--) {
            Http2Stream stream = streams.get(i);
            if (stream.state != Http2Stream.State.DONE) {
                continue;
            }
            if (stream.hasPendingBlock() && !connection.isClosing()) {
                sweepNeeded = true; // its last HEADERS still wait for room
                continue;
            }
            Exchange exchange = stream.exchange;
            if (exchange != null && !exchange.isIdle()) {
                sweepNeeded = true; // comes back at the next progress
                continue;
            }
            if (exchange != null) {
                worker.giveBack(stream.parser, exchange);
            }
            // What it received and never credited is gone with it: the connection gets it back.
            received.owe(Math.max(0, Http2Connection.STREAM_WINDOW - stream.receiveWindow));
            stream.release();
            streams.remove(i);
            spareStreams.add(stream);
        }
        if (streams.isEmpty() && connection.isOpen()) {
            connection.becameIdle();
        }
    }

    /**
     * Gives the client credit for what streams moved out of their buffers (RFC 9113 §6.9): the
     * connection's first, then each receiving stream's once a quarter of its window is free.
     *
     * @return true if a WINDOW_UPDATE was queued
     */
    boolean sendCredit() {
        if (connection.isClosing()) {
            return false; // closing: nothing more is written but the final frames (RFC 9113 §5.4.1)
        }
        boolean moved = received.sendCredit(output);
        for (int i = 0; i < streams.size(); i++) {
            Http2Stream stream = streams.get(i);
            if (!stream.isReceiving()) {
                continue;
            }
            int credit = stream.uncreditedRoom();
            if (credit >= Http2Connection.STREAM_WINDOW / 4 && output.windowUpdateFrame(stream.id, credit)) {
                stream.receiveWindow += credit;
                received.owe(credit); // the bytes left this connection's buffers too
                moved = true;
            }
        }
        return moved;
    }

    // ---- the end ----

    /** Every stream stops at once (a connection error, or the client is gone); freed at the next sweep or close. */
    void abortAll() {
        for (int i = 0; i < streams.size(); i++) {
            streams.get(i).abort();
        }
    }

    /** The connection closed: every stream stops and gives back its exchange and buffers. */
    void releaseAll() {
        for (int i = 0; i < streams.size(); i++) {
            Http2Stream stream = streams.get(i);
            stream.abort();
            if (stream.exchange != null) {
                worker.giveBack(stream.parser, stream.exchange);
            }
            stream.release();
        }
        streams.clear();
    }
}
