package dev.moonbeam.proxy;

import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;

/** Attaches a listening socket to a worker's loop. Call before the loop starts. */
public final class Listener {
    private Listener() {
    }

    public static void register(Worker worker, ServerSocketChannel socket) throws ClosedChannelException {
        worker.loop().register(socket, SelectionKey.OP_ACCEPT, new Acceptor(worker, socket));
    }
}
