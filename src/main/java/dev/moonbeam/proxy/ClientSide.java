package dev.moonbeam.proxy;

import dev.moonbeam.http.ForwardContext;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.RequestParser;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The client's half of one {@link Exchange}: where the request comes from and where the response
 * goes. An HTTP/1.1 {@link ClientConnection} is one (a request at a time); an HTTP/2 stream is
 * another. The exchange speaks HTTP/1.1 to the backend either way, so the request is offered as a
 * parsed HTTP/1.1 head with its body bytes framed as that head says, and the response is handed
 * over as the backend's head plus its body bytes framed as the response head says (chunked stays
 * chunked): each side turns that into its own protocol. Nothing here names a protocol version,
 * so the exchange has no version branches.
 *
 * <p>Loop-owned, like the exchange.
 */
interface ClientSide {

    // ---- the request ----

    /** The current request: its head, and the framing its body bytes go through. */
    RequestParser parser();

    /** Request bytes after the head (fill mode), or null when none are held. */
    ByteBuffer in();

    /** The client will send nothing more for this request (FIN, or the stream's END_STREAM and reset). */
    boolean inputClosed();

    ForwardContext forward();

    /** The client's address and port (as a PROXY header gave it, else the peer's). */
    InetSocketAddress client();

    /** The address the client connected to. */
    InetSocketAddress local();

    /** The request came as an HTTP/2 stream: for the access log and metrics only. */
    default boolean http2() {
        return false;
    }

    // ---- the response ----

    /** False while earlier bytes still wait to go out and a head must be written whole after them. */
    boolean readyForResponseHead();

    /**
     * Writes the response head (an interim one too; the final one decides whether the client
     * connection stays open).
     *
     * @return bytes queued for the client, or -1 when it does not fit in one buffer
     */
    int writeResponseHead(HttpHead request, HttpHead response);

    /** Room for response body bytes now; 0 means wait until the client has read some. */
    int responseRoom();

    /** Queues response body bytes (read mode, at most {@link #responseRoom()}), framed as the response head says. */
    void writeResponseBody(ByteBuffer source);

    /**
     * Answers the request with a redirect to the same host and target over HTTPS.
     *
     * @return bytes queued for the client, or -1 when the request cannot be redirected
     */
    int writeRedirect(int httpsPort);

    /** Response bytes are still waiting for the client to read them. */
    boolean hasUnsentResponse();

    /** The whole response is queued: go on with the next request, or close as the heads said. */
    void responseComplete(boolean requestComplete);

    // ---- after a 101 ----

    /** The exchange became a byte tunnel: the client's bytes go to {@link #in()} unparsed. */
    void enterTunnel();

    /** Moves tunnelled bytes (fill mode) towards the client as far as they fit; returns how many. */
    int writeTunnel(ByteBuffer from);

    /** The tunnel ended normally: flush and close. */
    void tunnelFinished();

    // ---- errors and progress ----

    /** Sends a canned error response and closes after it is flushed. */
    void respondAndClose(int status);

    /** Closes at once: a truncated response must never look complete. */
    void close();

    /** Something changed outside a socket event (a grant, a connect): move bytes again. */
    void progress();
}
