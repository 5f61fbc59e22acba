package dev.moonbeam.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes the head to forward, without allocating, into a caller-supplied buffer in fill mode.
 *
 * <p>Requests (RFC 9110 §7.6.1, §7.8): the request line byte for byte; hop-by-hop fields removed
 * (Connection and what it lists, Keep-Alive, Proxy-Connection, TE, Trailer, and Upgrade unless
 * upgrading); Transfer-Encoding normalised to {@code chunked} so the backend cannot read an odd
 * spelling differently; X-Forwarded-For/-Proto/-Host set per {@link ForwardContext}; every other
 * field copied in order, duplicates kept. Fields that frame or route the message (Host,
 * Content-Length, Transfer-Encoding) are never dropped, even when Connection lists them, since
 * that trick desyncs framing.
 *
 * <p>Responses: the backend's fields in order (repeated Set-Cookie included) minus connection
 * management, plus the Connection decision for the client.
 *
 * <p>If the head does not fit, nothing is written (the position is restored) and
 * {@link Result#BUFFER_TOO_SMALL} is returned; retry with a larger buffer. Stateless.
 */
public final class HeadRewriter {
    /** Outcome of a write. */
    public enum Result { WRITTEN, BUFFER_TOO_SMALL }

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HTTP_1_1 = ascii("HTTP/1.1");
    private static final byte[] COLON_SP = {':', ' '};
    private static final byte[] COMMA_SP = {',', ' '};
    private static final byte[] TE_CHUNKED = ascii("Transfer-Encoding: chunked\r\n");
    private static final byte[] XFF = ascii("X-Forwarded-For: ");
    private static final byte[] XFP = ascii("X-Forwarded-Proto: ");
    private static final byte[] XFH = ascii("X-Forwarded-Host: ");
    private static final byte[] CONNECTION_UPGRADE = ascii("Connection: upgrade\r\n");
    private static final byte[] CONNECTION_KEEP_ALIVE = ascii("Connection: keep-alive\r\n");
    private static final byte[] CONNECTION_CLOSE = ascii("Connection: close\r\n");

    private HeadRewriter() {}

    /** Writes the request head to send to a backend. */
    public static Result writeRequest(HttpHead request, ForwardContext context, ByteBuffer out) {
        int mark = out.position();
        if (!request(request, context, out)) {
            out.position(mark);
            return Result.BUFFER_TOO_SMALL;
        }
        return Result.WRITTEN;
    }

    /** Whether the proxy lets the client connection live on after this response. */
    public enum ClientPersistence {
        /** Keep it open when the request and response allow it. */
        KEEP_ALIVE_IF_ALLOWED,
        /** Close it after this response (graceful shutdown): say so with {@code Connection: close}. */
        CLOSE
    }

    /** Writes the response head to send to the client that made {@code request}. */
    public static Result writeResponse(HttpHead request, HttpHead response, ByteBuffer out) {
        return writeResponse(request, response, ClientPersistence.KEEP_ALIVE_IF_ALLOWED, out);
    }

    /** As {@link #writeResponse(HttpHead, HttpHead, ByteBuffer)}, with the proxy's own say on persistence. */
    public static Result writeResponse(HttpHead request, HttpHead response, ClientPersistence persistence, ByteBuffer out) {
        int mark = out.position();
        if (!response(request, response, persistence, out)) {
            out.position(mark);
            return Result.BUFFER_TOO_SMALL;
        }
        return Result.WRITTEN;
    }

    /**
     * Whether the client connection stays open after this exchange: the request allowed it (1.1
     * without close, 1.0 with keep-alive), the response is not close-delimited, and a 1.0 client
     * is not sent a chunked body it cannot delimit. A backend's "close" only retires the backend
     * connection.
     */
    public static boolean clientKeepAlive(HttpHead request, HttpHead response) {
        BodyKind kind = response.bodyKind();
        return request.isKeepAlive() && kind != BodyKind.UNTIL_CLOSE
                && !(kind == BodyKind.CHUNKED && request.version() == HttpVersion.HTTP_1_0);
    }

    private static boolean request(HttpHead head, ForwardContext context, ByteBuffer out) {
        byte[] bytes = head.bytes();
        boolean trust = context.forwardedHeaders() == ForwardContext.ForwardedHeaders.TRUST_AND_APPEND;
        boolean upgrading = head.isUpgradeRequested();
        if (!put(out, bytes, head.startLineStart(), head.startLineEnd()) || !put(out, CRLF)) {
            return false;
        }
        boolean wroteXff = false;
        boolean wroteTe = false;
        boolean keptProto = false;
        boolean keptHost = false;
        for (int i = 0; i < head.headerCount(); i++) {
            boolean ok;
            switch (head.name(i)) {
                case CONNECTION, KEEP_ALIVE, PROXY_CONNECTION, TE, TRAILER -> ok = true;
                case UPGRADE -> ok = !upgrading || copyLine(head, i, out);
                case TRANSFER_ENCODING -> {
                    ok = wroteTe || put(out, TE_CHUNKED);
                    wroteTe = true;
                }
                case X_FORWARDED_FOR -> {
                    if (trust && !wroteXff) {
                        ok = writeJoinedXff(head, i, context, out);
                        wroteXff = true;
                    } else {
                        ok = true;
                    }
                }
                case X_FORWARDED_PROTO -> {
                    ok = !trust || copyLine(head, i, out);
                    keptProto |= trust;
                }
                case X_FORWARDED_HOST -> {
                    ok = !trust || copyLine(head, i, out);
                    keptHost |= trust;
                }
                // RFC 9110 §7.6.1: whatever Connection lists is hop-by-hop, fields we know by name
                // included; only Host and the framing fields (below) are kept regardless.
                case OTHER, EXPECT -> ok = listedInConnection(head, i) || copyLine(head, i, out);
                default -> ok = copyLine(head, i, out);
            }
            if (!ok) {
                return false;
            }
        }
        if (!wroteXff && !(put(out, XFF) && put(out, context.address()) && put(out, CRLF))) {
            return false;
        }
        if (!keptProto && !(put(out, XFP) && put(out, context.scheme().bytes()) && put(out, CRLF))) {
            return false;
        }
        if (!keptHost && head.hostIndex() >= 0 && head.hostEnd() > head.hostStart()
                && !(put(out, XFH) && put(out, bytes, head.hostStart(), head.hostEnd()) && put(out, CRLF))) {
            return false;
        }
        if (upgrading) {
            if (!put(out, CONNECTION_UPGRADE)) {
                return false;
            }
        } else if (head.version() == HttpVersion.HTTP_1_0 && !put(out, CONNECTION_KEEP_ALIVE)) {
            // A 1.0 request line is forwarded as is; ask explicitly so the backend connection can
            // be pooled (RFC 9112 §9.3).
            return false;
        }
        return put(out, CRLF);
    }

    /** All incoming X-Forwarded-For values in order, then the client address. */
    private static boolean writeJoinedXff(HttpHead head, int first, ForwardContext context, ByteBuffer out) {
        if (!put(out, XFF)) {
            return false;
        }
        byte[] bytes = head.bytes();
        for (int i = first; i < head.headerCount(); i++) {
            if (head.name(i) == HeaderName.X_FORWARDED_FOR && head.valueEnd(i) > head.valueStart(i)
                    && !(put(out, bytes, head.valueStart(i), head.valueEnd(i)) && put(out, COMMA_SP))) {
                return false;
            }
        }
        return put(out, context.address()) && put(out, CRLF);
    }

    private static boolean response(HttpHead request, HttpHead head, ClientPersistence persistence, ByteBuffer out) {
        byte[] bytes = head.bytes();
        int status = head.statusCode();
        // Our own version, not the backend's (RFC 9110 §6.2): an HTTP/1.0 backend must not make a
        // 1.1 client think the connection closes after this response. "HTTP/1.x" is 8 bytes.
        if (!put(out, HTTP_1_1) || !put(out, bytes, head.startLineStart() + HTTP_1_1.length, head.startLineEnd())
                || !put(out, CRLF)) {
            return false;
        }
        for (int i = 0; i < head.headerCount(); i++) {
            boolean ok;
            switch (head.name(i)) {
                case CONNECTION, KEEP_ALIVE, PROXY_CONNECTION, TE -> ok = true;
                case UPGRADE -> ok = status != 101 || copyLine(head, i, out);
                case OTHER, EXPECT, TRAILER, X_FORWARDED_FOR, X_FORWARDED_PROTO, X_FORWARDED_HOST ->
                        ok = listedInConnection(head, i) || copyLine(head, i, out);
                default -> ok = copyLine(head, i, out); // Host, Content-Length, Transfer-Encoding: never dropped
            }
            if (!ok) {
                return false;
            }
        }
        boolean connectionOk;
        if (status == 101) {
            connectionOk = put(out, CONNECTION_UPGRADE);
        } else if (status < 200) {
            connectionOk = true; // interim: the final response decides
        } else if (persistence == ClientPersistence.CLOSE || !clientKeepAlive(request, head)) {
            connectionOk = put(out, CONNECTION_CLOSE);
        } else {
            connectionOk = request.version() != HttpVersion.HTTP_1_0 || put(out, CONNECTION_KEEP_ALIVE);
        }
        return connectionOk && put(out, CRLF);
    }

    /** Whether field {@code field}'s name is listed in any Connection header of the head (so it is hop-by-hop). */
    public static boolean listedInConnection(HttpHead head, int field) {
        byte[] bytes = head.bytes();
        int ns = head.nameStart(field);
        int ne = head.nameEnd(field);
        for (int c = 0; c < head.headerCount(); c++) {
            if (head.name(c) != HeaderName.CONNECTION) {
                continue;
            }
            int i = head.valueStart(c);
            int end = head.valueEnd(c);
            while (i < end) {
                while (i < end && (bytes[i] == ',' || ByteClass.isWhitespace(bytes[i]))) {
                    i++;
                }
                int s = i;
                while (i < end && bytes[i] != ',' && !ByteClass.isWhitespace(bytes[i])) {
                    i++;
                }
                if (i - s == ne - ns && regionEqualsIgnoreCase(bytes, s, ns, ne - ns)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean regionEqualsIgnoreCase(byte[] bytes, int a, int b, int length) {
        for (int k = 0; k < length; k++) {
            if (ByteClass.lower(bytes[a + k]) != ByteClass.lower(bytes[b + k])) {
                return false;
            }
        }
        return true;
    }

    /** The field line exactly as received. */
    private static boolean copyLine(HttpHead head, int i, ByteBuffer out) {
        return put(out, head.bytes(), head.lineStart(i), head.lineEnd(i)) && put(out, CRLF);
    }

    private static boolean put(ByteBuffer out, byte[] source) {
        if (out.remaining() < source.length) {
            return false;
        }
        out.put(source);
        return true;
    }

    private static boolean put(ByteBuffer out, byte[] source, int start, int end) {
        if (out.remaining() < end - start) {
            return false;
        }
        out.put(source, start, end - start);
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
