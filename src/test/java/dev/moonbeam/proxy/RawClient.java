package dev.moonbeam.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A blocking client speaking raw bytes to the proxy, so tests control every byte and split. */
public final class RawClient implements AutoCloseable {
    public final Socket socket;
    public final InputStream in;
    public final OutputStream out;

    public RawClient(int port) throws IOException {
        this(port, null);
    }

    /** @param from the local address to connect from (e.g. 127.0.0.2), or null for any */
    public RawClient(int port, String from) throws IOException {
        socket = new Socket();
        if (from != null) {
            socket.bind(new java.net.InetSocketAddress(InetAddress.getByName(from), 0));
        }
        socket.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream(), 65536);
        out = socket.getOutputStream();
    }

    public RawClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    public HttpMessage response() throws IOException {
        return HttpMessage.read(in, true, false);
    }

    public HttpMessage responseToHead() throws IOException {
        return HttpMessage.read(in, true, true);
    }

    /** GET with keep-alive; returns the response. */
    public HttpMessage get(String target) throws IOException {
        send("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n");
        return response();
    }

    /** True when the proxy has closed the connection (EOF or reset) within the socket timeout. */
    public boolean isClosedByPeer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return !(e instanceof java.net.SocketTimeoutException);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
