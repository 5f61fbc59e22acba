package dev.moonbeam.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A blocking TLS client for end-to-end tests: an {@link SSLSocket} layered over a plain socket the
 * test keeps, so it can also vanish without close_notify. Trusts any certificate; tests assert the
 * one they got. Test-thread only.
 */
final class TlsClient implements AutoCloseable {
    static final List<String> MODERN = List.of("TLSv1.3", "TLSv1.2");

    final Socket raw;
    final SSLSocket socket;
    final InputStream in;
    final OutputStream out;

    /**
     * Connects and completes the handshake.
     *
     * @param sniName the SNI host name to send, or null for none
     * @param protocols what the client offers
     * @param alpn ALPN protocols offered, or empty for no ALPN extension
     */
    TlsClient(int port, String sniName, List<String> protocols, List<String> alpn) throws IOException {
        this(TRUST_ALL, port, sniName, protocols, alpn);
    }

    /** @param context the client's context, whose session cache decides what it offers to resume */
    TlsClient(SSLContext context, int port, String sniName, List<String> protocols, List<String> alpn) throws IOException {
        this(context, port, sniName, protocols, alpn, new byte[0]);
    }

    /** @param preamble bytes sent in the clear before the handshake (a PROXY protocol header) */
    TlsClient(SSLContext context, int port, String sniName, List<String> protocols, List<String> alpn, byte[] preamble)
            throws IOException {
        raw = new Socket(InetAddress.getLoopbackAddress(), port);
        raw.setSoTimeout(10_000);
        raw.setTcpNoDelay(true);
        if (preamble.length > 0) {
            raw.getOutputStream().write(preamble);
            raw.getOutputStream().flush();
        }
        socket = (SSLSocket) context.getSocketFactory().createSocket(raw, "127.0.0.1", port, true);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setProtocols(protocols.toArray(new String[0]));
        parameters.setServerNames(sniName == null ? List.of() : List.of(new SNIHostName(sniName)));
        parameters.setApplicationProtocols(alpn.toArray(new String[0]));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        in = new BufferedInputStream(socket.getInputStream(), 65536);
        out = socket.getOutputStream();
    }

    /**
     * Drops the cached client sessions. The JDK caches them by host:port, so a proxy on a reused
     * ephemeral port could be offered an earlier test's session; certificate tests want a full handshake.
     */
    static void forgetSessions() {
        javax.net.ssl.SSLSessionContext sessions = TRUST_ALL.getClientSessionContext();
        for (java.util.Enumeration<byte[]> ids = sessions.getIds(); ids.hasMoreElements(); ) {
            javax.net.ssl.SSLSession session = sessions.getSession(ids.nextElement());
            if (session != null) {
                session.invalidate();
            }
        }
    }

    static TlsClient connect(int port) throws IOException {
        return new TlsClient(port, null, MODERN, List.of("http/1.1"));
    }

    String protocol() {
        return socket.getSession().getProtocol();
    }

    String applicationProtocol() {
        return socket.getApplicationProtocol();
    }

    X509Certificate peerCertificate() throws IOException {
        return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    TlsClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    TlsClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    HttpMessage response() throws IOException {
        return HttpMessage.read(in, true, false);
    }

    HttpMessage get(String target) throws IOException {
        send("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n");
        return response();
    }

    /** True when the proxy ended the connection (close_notify, EOF or reset) within the socket timeout. */
    boolean isClosedByPeer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return !(e instanceof SocketTimeoutException);
        }
    }

    /** Closes the TCP socket under the TLS layer: no close_notify, as a crashed client would. */
    void vanish() throws IOException {
        raw.setSoLinger(true, 0); // RST, not even a FIN handshake
        raw.close();
    }

    @Override
    public void close() throws IOException {
        socket.close(); // close_notify, then the TCP socket
    }

    /** Accepts every certificate and host name: these tests check the certificate themselves. */
    static final SSLContext TRUST_ALL = newTrustAllContext();

    /** A trust-all context with its own, empty client session cache. */
    static SSLContext newTrustAllContext() {
        TrustManager trustAll = new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trustAll}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
