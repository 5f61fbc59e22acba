package dev.moonbeam.proxy;

import dev.moonbeam.loop.BufferPool;
import dev.moonbeam.observe.Termination;
import java.nio.ByteBuffer;

/**
 * An {@link Exchange} after a 101 (e.g. WebSocket): the client and backend sockets joined byte for
 * byte, with half-closes passed on, until the backend closes or the inactivity timeout ends it.
 * One per exchange; holds no state of its own. Loop-owned.
 */
final class Tunnel {
    private final Exchange exchange;
    private final BackendLink link;

    Tunnel(Exchange exchange, BackendLink link) {
        this.exchange = exchange;
        this.link = link;
    }

    /** Everything from the client goes to the backend as is. */
    boolean forward() {
        ClientSide client = exchange.client();
        BackendConnection connection = link.connection();
        ByteBuffer in = client.in();
        if (connection == null || in == null || in.position() == 0) {
            if (client.inputClosed() && connection != null && !connection.hasPendingOutput()) {
                // Half-close: pass the client's FIN on and keep relaying the backend's answer
                // until it closes too (or the tunnel's inactivity timeout ends it).
                connection.shutdownOutput();
            }
            return false;
        }
        ByteBuffer out = connection.out();
        int moved = transfer(in, out);
        return moved > 0;
    }

    /** Everything from the backend goes to the client as is; the backend's close ends the tunnel. */
    boolean relay(BackendConnection connection) {
        ByteBuffer in = connection.in;
        boolean moved = false;
        if (in != null && in.position() > 0) {
            int count = exchange.client().writeTunnel(in);
            exchange.report().sent(count);
            moved = count > 0;
        }
        if (connection.inputClosed && (connection.in == null || connection.in.position() == 0)) {
            finish();
            return true;
        }
        return moved;
    }

    private void finish() {
        exchange.report().end(Termination.COMPLETED);
        link.close();
        link.releaseInflight(true);
        exchange.enter(Exchange.State.IDLE);
        exchange.cancelTimer();
        exchange.client().tunnelFinished();
    }

    /** Nothing moved either way for the inactivity timeout: the tunnel ends. */
    void timedOut() {
        exchange.report().end(Termination.COMPLETED);
        link.close();
        link.releaseInflight(true);
        exchange.enter(Exchange.State.IDLE);
        exchange.client().close();
    }

    /** Moves as many bytes as fit from {@code from} (fill mode) to {@code to} (fill mode). */
    private static int transfer(ByteBuffer from, ByteBuffer to) {
        from.flip();
        try {
            return BufferPool.copyWhatFits(from, to);
        } finally {
            from.compact();
        }
    }
}
