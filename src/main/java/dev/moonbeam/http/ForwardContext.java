package dev.moonbeam.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Per-connection inputs to {@link HeadRewriter}, built once when a client connects so rewriting a
 * head allocates nothing.
 *
 * @param clientAddress the client IP as ASCII, e.g. {@code 192.0.2.7} or {@code 2001:db8::1}
 * @param scheme how the client reached us, for X-Forwarded-Proto
 * @param forwardedHeaders whether incoming X-Forwarded-* headers are trusted
 */
public record ForwardContext(byte[] clientAddress, Scheme scheme, ForwardedHeaders forwardedHeaders) {

    /** The scheme the client used. */
    public enum Scheme {
        HTTP("http"), HTTPS("https");

        private final byte[] bytes;

        Scheme(String name) {
            this.bytes = name.getBytes(StandardCharsets.US_ASCII);
        }

        byte[] bytes() {
            return bytes;
        }
    }

    /** The {@code trust_forwarded_headers} option. */
    public enum ForwardedHeaders {
        /** Default: drop the client's X-Forwarded-* (anyone can forge them) and set our own. */
        REPLACE,
        /** Behind a trusted proxy: append to its X-Forwarded-For, keep its Proto and Host. */
        TRUST_AND_APPEND
    }

    public ForwardContext {
        clientAddress = Arrays.copyOf(clientAddress, clientAddress.length);
        if (scheme == null || forwardedHeaders == null) {
            throw new IllegalArgumentException("scheme and forwardedHeaders are required");
        }
    }

    public static ForwardContext of(String clientAddress, Scheme scheme, ForwardedHeaders forwardedHeaders) {
        return new ForwardContext(clientAddress.getBytes(StandardCharsets.US_ASCII), scheme,
                forwardedHeaders);
    }

    /** The address bytes without a copy; callers must not modify them. */
    byte[] address() {
        return clientAddress;
    }

    @Override
    public byte[] clientAddress() {
        return Arrays.copyOf(clientAddress, clientAddress.length);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ForwardContext that && Arrays.equals(clientAddress, that.clientAddress)
                && scheme == that.scheme && forwardedHeaders == that.forwardedHeaders;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(clientAddress) * 31 + scheme.hashCode() * 7 + forwardedHeaders.hashCode();
    }

    @Override
    public String toString() {
        return "ForwardContext[" + new String(clientAddress, StandardCharsets.US_ASCII) + ", " + scheme
                + ", " + forwardedHeaders + "]";
    }
}
