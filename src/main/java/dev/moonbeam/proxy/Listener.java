package dev.moonbeam.proxy;

import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;

/** Attaches a listening socket to a worker's loop. Call before the loop starts. */
public final class Listener {
    /** Which settings the listener's connections use. */
    public enum Role {
        /** The configured {@code listen}: TLS when there is an {@code ssl} section. */
        MAIN,
        /** The optional {@code http_listener}: plain HTTP, proxying or redirecting to HTTPS. */
        PLAIN
    }

    private Listener() {
    }

    public static void register(Worker worker, ServerSocketChannel socket, Role role) throws ClosedChannelException {
        Acceptor acceptor = new Acceptor(worker, socket, role);
        acceptor.key(worker.loop().register(socket, SelectionKey.OP_ACCEPT, acceptor));
    }
}
