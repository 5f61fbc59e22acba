package dev.moonbeam.loop;

import java.nio.channels.SelectionKey;

/**
 * What a registered channel's attachment does when it is ready. Called only on its loop's thread.
 */
public interface IoHandler {
    /** Handles readiness; may throw, in which case the loop logs it and calls {@link #abort}. */
    void onReady(SelectionKey key, int readyOps) throws Exception;

    /** Closes this handler's connection(s) after a failure {@link #onReady} did not handle. Must not throw. */
    void abort(Throwable cause);
}
