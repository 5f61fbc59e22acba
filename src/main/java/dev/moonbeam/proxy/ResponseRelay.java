package dev.moonbeam.proxy;

import dev.moonbeam.balance.Backend;
import dev.moonbeam.http.HttpHead;
import dev.moonbeam.http.HttpVersion;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.http.RequestMethod;
import dev.moonbeam.http.ResponseParser;
import dev.moonbeam.observe.Termination;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The response direction of an {@link Exchange}: parses what the backend sends, writes the head
 * for the client (interim ones too, and the switch to a {@link Tunnel} after a 101), streams the
 * body as far as the client has room, and at the end pools or closes the backend connection. One
 * per exchange, reused for each request; the parser is kept while the response limits stay the
 * same. Loop-owned.
 */
final class ResponseRelay {
    /** The exchange's logger: logging set for {@link Exchange} covers all of an exchange's messages. */
    private static final System.Logger LOG = System.getLogger(Exchange.class.getName());
    /**
     * Interim (1xx) responses relayed for one request before the backend counts as broken: real
     * ones are a 100 Continue and a few 103s (Go's client stopped at 5; nginx bounds 103s by its
     * header buffer). Without a bound an endless stream of them kept the exchange, and its
     * inactivity timeout, alive forever.
     */
    static final int MAX_INTERIM_RESPONSES = 32;

    private final Exchange exchange;
    private final Worker worker;
    private final BackendLink link;
    private ResponseParser parser;
    /** Bytes of the response already handed to the client (head included). */
    private long bytesRelayed;
    /** Bytes received from the backend for this request. */
    private long bytesReceived;
    private int interimResponses;
    private boolean awaitingHead;

    ResponseRelay(Exchange exchange, Worker worker, BackendLink link) {
        this.exchange = exchange;
        this.worker = worker;
        this.link = link;
    }

    /** The exchange serves a connection with {@code next} settings; a parser is kept while the limits stay the same. */
    void bind(ProxySettings previous, ProxySettings next) {
        if (parser == null || !next.responseLimits().equals(previous.responseLimits())) {
            parser = new ResponseParser(next.responseLimits());
        }
    }

    /** A new request: nothing of its response has come yet. */
    void reset(RequestMethod method) {
        bytesRelayed = 0;
        bytesReceived = 0;
        interimResponses = 0;
        awaitingHead = true;
        parser.expectResponseTo(method);
    }

    /** The request is sent again on another connection: its response starts over. */
    void restart(RequestMethod method) {
        parser.expectResponseTo(method);
        awaitingHead = true;
    }

    /** A final head went to the client: no retry and no error page from now on. */
    boolean begun() {
        return bytesRelayed > 0;
    }

    /** Some bytes came from the backend for this request: it cannot be sent again elsewhere. */
    boolean anyReceived() {
        return bytesReceived != 0;
    }

    void received(int bytes) {
        bytesReceived += bytes;
    }

    /**
     * Whether to read from the backend now: always for a response head (it is not held back by
     * the client: HTTP/2 does not flow-control HEADERS, RFC 9113 §6.9), else only while the client
     * side has room. Asking the selector for OP_READ when nothing will be read would wake the loop
     * over and over for as long as a slow client keeps its window or buffer full.
     */
    boolean wantsBackendBytes() {
        return awaitingHead || exchange.client().responseRoom() > 0;
    }

    /** Parses what the backend sent and passes it to the client as far as it has room; true if anything moved. */
    boolean relay(BackendConnection connection) {
        ClientSide client = exchange.client();
        boolean moved = false;
        for (int guard = 0; guard < 64 && exchange.state() == Exchange.State.ACTIVE; guard++) {
            ByteBuffer in = connection.in;
            boolean hasInput = in != null && in.position() > 0;
            if (awaitingHead && !client.readyForResponseHead()) {
                // A head is written whole; wait until the previous bytes have gone out.
                return moved;
            }
            ParseStatus status;
            if (!hasInput && connection.inputClosed) {
                status = parser.endOfInput();
                if (status == ParseStatus.MESSAGE_COMPLETE) {
                    complete();
                } else {
                    exchange.backendBroke(new IOException("backend closed the connection before the response was complete"),
                            Termination.BACKEND_RESET);
                }
                return true;
            }
            ByteBuffer source = hasInput ? in : worker.emptyBuffer();
            source.flip();
            int limit = source.limit();
            int start = source.position();
            try {
                if (!awaitingHead) {
                    source.limit(Math.min(limit, start + client.responseRoom()));
                }
                status = parser.parse(source);
                int end = source.position();
                if (!awaitingHead && end > start) {
                    source.position(start).limit(end);
                    client.writeResponseBody(source);
                    bytesRelayed += end - start;
                    exchange.report().sent(end - start);
                }
            } finally {
                source.limit(limit);
                source.compact();
            }
            switch (status) {
                case NEED_MORE -> {
                    if (!connection.inputClosed || client.responseRoom() == 0) {
                        return moved;
                    }
                    // The backend closed: the next pass asks the framing whether that ends the body.
                }
                case HEAD_COMPLETE -> {
                    awaitingHead = false;
                    moved = true;
                    if (!writeHead()) {
                        return true;
                    }
                }
                case BODY -> {
                    moved = true;
                    if (client.responseRoom() == 0) {
                        return true;
                    }
                }
                case MESSAGE_COMPLETE -> {
                    complete();
                    return true;
                }
                case ERROR -> {
                    LOG.log(System.Logger.Level.WARNING, () -> "backend " + link.backend().spec().hostPort()
                            + ": invalid response: " + parser.errorReason());
                    exchange.backendBroke(new IOException("invalid response: " + parser.errorReason()),
                            Termination.BACKEND_INVALID_RESPONSE);
                    return true;
                }
                default -> throw new IllegalStateException("response parser returned " + status);
            }
        }
        return moved;
    }

    /** Writes the response head for the client; handles interim responses and the switch to a tunnel. */
    private boolean writeHead() {
        ClientSide client = exchange.client();
        HttpHead request = client.parser().head();
        HttpHead response = parser.head();
        if (parser.isInterim() && ++interimResponses > MAX_INTERIM_RESPONSES) {
            exchange.backendBroke(new IOException("more than " + MAX_INTERIM_RESPONSES + " interim responses"),
                    Termination.BACKEND_INVALID_RESPONSE);
            return false;
        }
        if (parser.isInterim() && request.version() == HttpVersion.HTTP_1_0) {
            // HTTP/1.0 clients do not understand 1xx (RFC 9110 §15.2): swallow it.
            parser.continueAfterInterim();
            awaitingHead = true;
            return true;
        }
        int written = client.writeResponseHead(request, response);
        if (written < 0) {
            exchange.backendBroke(new IOException("response head does not fit the client buffer"),
                    Termination.BACKEND_INVALID_RESPONSE);
            return false;
        }
        exchange.report().sent(written);
        if (!parser.isInterim()) {
            exchange.report().finalHead(response.statusCode());
            // A final head went out: no retry and no error page from now on. After interim heads
            // only, a 502 or 504 is still a valid final response (RFC 9110 §15.2).
            bytesRelayed += 1;
        }
        if (parser.isSwitchingProtocols()) {
            if (!request.isUpgradeRequested()) {
                exchange.backendBroke(new IOException("101 without an upgrade request"), Termination.BACKEND_INVALID_RESPONSE);
                return false;
            }
            exchange.enterTunnel();
            return false;
        }
        if (parser.isInterim()) {
            // e.g. 100 Continue: relayed, and the final response follows for the same request.
            parser.continueAfterInterim();
            awaitingHead = true;
        }
        return true;
    }

    /** The response is complete: pool the backend connection if it is clean, then the client goes on. */
    private void complete() {
        exchange.cancelTimer();
        RequestRelay request = exchange.request();
        if (!request.isComplete()) {
            // The rest of the body may already be buffered; the connection is reusable if so.
            request.forwardBody();
            if (link.connection() == null) {
                return;
            }
        }
        HttpHead response = parser.head();
        BackendConnection connection = link.connection();
        Backend backend = link.backend();
        boolean backendReusable = response.isKeepAlive() && request.isComplete() && !backend.spec().sendProxyProtocol()
                && !backend.isRetired() // its pool was cleared when it left the routing
                && !connection.hasPendingOutput()
                && !connection.inputClosed && (connection.in == null || connection.in.position() == 0);
        if (backendReusable) {
            link.pool(response.keepAliveTimeoutSeconds());
        } else {
            link.close();
        }
        link.releaseInflight(true);
        exchange.enter(Exchange.State.IDLE);
        exchange.report().end(Termination.COMPLETED);
        exchange.client().responseComplete(request.isComplete());
    }
}
