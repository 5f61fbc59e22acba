package dev.moonbeam.proxy;

import dev.moonbeam.h2.FrameReader;
import dev.moonbeam.http.BodyKind;
import dev.moonbeam.http.ParseStatus;
import dev.moonbeam.http.RequestParser;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP/1.1 requests of a {@link ClientConnection}, one after another: parsing each head from
 * the input (a plain connection's first bytes may instead be the HTTP/2 preface), starting its
 * {@link Exchange}, and holding the parser and exchange while requests are in progress. Pipelined
 * requests simply stay in the input until the exchange before them has ended. One per connection.
 * Loop-owned.
 */
final class Http1Requests {
    private static final byte[] HTTP2_PREFACE = FrameReader.PREFACE.getBytes(StandardCharsets.US_ASCII);

    private final ClientConnection connection;
    private final Worker worker;
    private final ProxySettings settings;
    private final ClientTimeouts timeouts;
    /** The client's address as text, copied once per connection for the exchange's records. */
    private final byte[] clientAddress;
    /** A plain connection that may begin with the HTTP/2 preface (h2c with prior knowledge). */
    private final boolean cleartextHttp2;
    /** Held only while a request is in progress; idle connections give them back to the worker. */
    private RequestParser parser;
    private Exchange exchange;
    /** A request was parsed on this connection: only a connection's first bytes can be the HTTP/2 preface. */
    private boolean anyRequest;

    Http1Requests(ClientConnection connection, Worker worker, ProxySettings settings, ClientTimeouts timeouts,
            byte[] clientAddress, boolean cleartextHttp2) {
        this.connection = connection;
        this.worker = worker;
        this.settings = settings;
        this.timeouts = timeouts;
        this.clientAddress = clientAddress;
        this.cleartextHttp2 = cleartextHttp2;
    }

    RequestParser parser() {
        return parser;
    }

    /** The exchange of the request in progress, or null between requests. */
    Exchange exchange() {
        return exchange;
    }

    /** Parses a request head from {@code input} and starts its exchange once it is complete. */
    boolean readHead(ClientInput input) {
        ByteBuffer in = input.buffer();
        if (in == null || in.position() == 0) {
            if (input.closed()) {
                // Clean close between requests, or mid-head (nothing to answer).
                connection.close();
                return false;
            }
            return false;
        }
        if (!anyRequest && cleartextHttp2) {
            int preface = http2Preface(in);
            if (preface > 0) {
                connection.handOverToHttp2(0); // h2c with prior knowledge (RFC 9113 §3.3)
                return true;
            }
            if (preface == 0) {
                if (input.closed()) {
                    connection.close();
                }
                return false; // so far it looks like the preface: wait for the rest
            }
        }
        takeSession();
        in.flip();
        ParseStatus status;
        try {
            status = parser.parse(in);
        } finally {
            in.compact();
        }
        switch (status) {
            case NEED_MORE -> {
                if (input.closed()) {
                    connection.close();
                }
                return true;
            }
            case ERROR -> {
                exchange.reportRejected(parser.errorStatus());
                connection.respondAndClose(parser.errorStatus());
                return true;
            }
            case HEAD_COMPLETE -> {
                anyRequest = true;
                connection.enter(ClientConnection.State.EXCHANGE);
                timeouts.disarm();
                exchange.begin();
                if (connection.state() == ClientConnection.State.EXCHANGE && settings.clientBodyNanos() > 0
                        && parser.head().bodyKind() != BodyKind.NONE) {
                    timeouts.arm(ClientTimeouts.Purpose.BODY, settings.clientBodyNanos());
                }
                return true;
            }
            default -> throw new IllegalStateException("parser returned " + status + " for a head");
        }
    }

    /** 1: the buffer starts with the whole HTTP/2 preface; 0: with a part of it; -1: something else. */
    private static int http2Preface(ByteBuffer in) {
        int n = Math.min(in.position(), HTTP2_PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (in.get(i) != HTTP2_PREFACE[i]) {
                return -1;
            }
        }
        return n == HTTP2_PREFACE.length ? 1 : 0;
    }

    /** Slowloris or a stalled client: 408 if we can still say so (RFC 9110 §15.5.9). */
    void headTimedOut() {
        takeSession();
        exchange.reportRejected(408);
        connection.respondAndClose(408);
        connection.progress();
    }

    /** The exchange ended and the connection stays: the parser starts on the next request. */
    void next() {
        parser.reset();
    }

    void takeSession() {
        if (parser == null) {
            parser = worker.takeParser(settings);
            exchange = worker.takeExchange();
            exchange.bind(connection, settings, clientAddress);
        }
    }

    void giveBackSession() {
        if (parser != null && exchange.isIdle()) {
            worker.giveBack(parser, exchange);
            parser = null;
            exchange = null;
        }
    }
}
