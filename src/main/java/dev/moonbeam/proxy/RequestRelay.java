package dev.moonbeam.proxy;

import dev.moonbeam.http.HeadRewriter;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.observe.Termination;
import java.nio.ByteBuffer;

/**
 * The request direction of an {@link Exchange}: the rewritten head into the backend connection's
 * buffer, then the body bytes from the client's buffer as far as room allows, through the request
 * parser's framing. One per exchange, reused for each request. Loop-owned.
 */
final class RequestRelay {
    private final Exchange exchange;
    private final Worker worker;
    private final BackendLink link;
    private boolean complete;
    private long bodyForwarded;

    RequestRelay(Exchange exchange, Worker worker, BackendLink link) {
        this.exchange = exchange;
        this.worker = worker;
        this.link = link;
    }

    /** A new request: nothing of it has gone to a backend yet. */
    void reset() {
        complete = false;
        bodyForwarded = 0;
    }

    /** True once the whole request body has gone to the backend (or there was none). */
    boolean isComplete() {
        return complete;
    }

    /** The request needs no backend (a redirect answered it). */
    void markComplete() {
        complete = true;
    }

    /** Some body bytes went to the backend: the request cannot be repeated elsewhere. */
    boolean anyBodyForwarded() {
        return bodyForwarded != 0;
    }

    boolean writeHead(BackendConnection connection) {
        ClientSide client = exchange.client();
        ByteBuffer out = connection.out();
        if (HeadRewriter.writeRequest(client.parser().head(), client.forward(), out) != HeadRewriter.Result.WRITTEN) {
            // Our forwarding fields pushed a head near the limit past one buffer.
            exchange.finish(431, Termination.LIMIT_REACHED);
            return false;
        }
        return true;
    }

    /** Copies request body bytes from the client's buffer to the backend's, as far as room allows. */
    boolean forwardBody() {
        ClientSide client = exchange.client();
        Exchange.State state = exchange.state();
        if (state == Exchange.State.QUEUED) {
            if (client.inputClosed()) {
                // Gave up while waiting (nginx logs 499; HAProxy's abortonclose): a slot spent on
                // a client that is gone would be taken from one that is not.
                client.close();
            }
            return false;
        }
        BackendConnection connection = link.connection();
        // Not while CONNECTING: if that connect fails, the next backend must get the body from its
        // first byte, so nothing may be taken from the client's buffer until a connection is up.
        if (complete || connection == null || state != Exchange.State.ACTIVE) {
            return false;
        }
        ByteBuffer in = client.in();
        ByteBuffer source = in != null ? in : worker.emptyBuffer();
        ByteBuffer out = connection.out();
        if (!out.hasRemaining()) {
            return false;
        }
        source.flip();
        int limit = source.limit();
        int start = source.position();
        ParseStatus status;
        try {
            source.limit(Math.min(limit, start + out.remaining()));
            status = client.parser().parse(source);
            int end = source.position();
            if (end > start) {
                source.position(start).limit(end);
                out.put(source);
                bodyForwarded += end - start;
            }
        } finally {
            source.limit(limit);
            source.compact();
        }
        switch (status) {
            case MESSAGE_COMPLETE -> {
                complete = true;
                return true;
            }
            case BODY -> {
                return true;
            }
            case NEED_MORE -> {
                if (client.inputClosed() && (in == null || in.position() == 0)) {
                    // The client vanished mid-upload: the backend must not see a truncated body as whole.
                    client.close();
                }
                return false;
            }
            case ERROR -> {
                // A malformed chunk mid-body: the backend already has part of it, so it cannot be reused.
                int errorStatus = client.parser().errorStatus();
                exchange.finish(errorStatus, Termination.ofRejection(errorStatus));
                return true;
            }
            default -> throw new IllegalStateException("parser returned " + status + " in a body");
        }
    }
}
