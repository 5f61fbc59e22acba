package dev.moonbeam.tools;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Opens N TLS keep-alive connections to a proxy, makes one request on each, then holds them idle
 * for a while so the proxy's memory per idle TLS connection can be measured (scripts/idle-memory.sh).
 * Usage: IdleTlsClients HOST PORT COUNT HOLD_SECONDS [h2]; with {@code h2} each connection negotiates
 * HTTP/2 (ALPN), sends its preface and one GET on stream 1, and reads the response.
 */
public final class IdleTlsClients {
    private IdleTlsClients() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int count = Integer.parseInt(args[2]);
        long holdMillis = Long.parseLong(args[3]) * 1000;
        boolean h2 = args.length > 4 && args[4].equals("h2");
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
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
        }}, null);
        byte[] request = ("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        List<SSLSocket> sockets = new ArrayList<>(count);
        int failed = 0;
        for (int i = 0; i < count; i++) {
            try {
                SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
                socket.setTcpNoDelay(true); // else Nagle holds the request behind Finished: ~40 ms each
                socket.connect(new InetSocketAddress(host, port), 5000);
                socket.setSoTimeout(10_000);
                if (h2) {
                    javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
                    parameters.setApplicationProtocols(new String[] {"h2"});
                    socket.setSSLParameters(parameters);
                    socket.getOutputStream().write(h2Request(host));
                    readH2Response(new java.io.DataInputStream(new BufferedInputStream(socket.getInputStream())));
                } else {
                    socket.getOutputStream().write(request);
                    readResponse(new BufferedInputStream(socket.getInputStream()));
                }
                sockets.add(socket);
            } catch (Exception e) {
                failed++;
            }
        }
        System.out.println("open " + sockets.size() + " failed " + failed);
        System.out.flush();
        Thread.sleep(holdMillis);
        for (SSLSocket socket : sockets) {
            socket.close();
        }
    }

    /** The preface, an empty SETTINGS, and GET / on stream 1 (static-table HPACK, RFC 7541 Appendix A). */
    private static byte[] h2Request(String host) {
        byte[] authority = host.getBytes(StandardCharsets.US_ASCII);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // SETTINGS, empty
        int blockLength = 3 + 2 + authority.length;
        out.writeBytes(new byte[] {0, 0, (byte) blockLength, 1, 0x05, 0, 0, 0, 1}); // HEADERS, END_STREAM|END_HEADERS
        out.writeBytes(new byte[] {(byte) 0x82, (byte) 0x87, (byte) 0x84, 0x01, (byte) authority.length});
        out.writeBytes(authority);
        return out.toByteArray();
    }

    /** Reads frames until stream 1 ends (END_STREAM or RST_STREAM). */
    private static void readH2Response(java.io.DataInputStream in) throws Exception {
        for (int frames = 0; frames < 1000; frames++) {
            int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
            int type = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            int stream = in.readInt() & 0x7FFF_FFFF;
            in.skipNBytes(length);
            if (stream == 1 && (type == 3 || ((type == 0 || type == 1) && (flags & 1) != 0))) {
                return;
            }
            if (type == 7) {
                throw new IllegalStateException("GOAWAY");
            }
        }
        throw new IllegalStateException("no end of stream 1");
    }

    /** Reads one response with a Content-Length body (enough for the demo backends). */
    private static void readResponse(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IllegalStateException("closed");
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        in.readNBytes(length);
    }
}
