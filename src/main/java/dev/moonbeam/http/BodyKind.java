package dev.moonbeam.http;

/** How the length of a message body is determined (RFC 9112 §6.3). */
public enum BodyKind {
    /** No body: HEAD response, 1xx/204/304, or a request without Content-Length/chunked. */
    NONE,
    CONTENT_LENGTH,
    CHUNKED,
    /** Response body delimited by the backend closing the connection (RFC 9112 §6.3 item 8). */
    UNTIL_CLOSE
}
