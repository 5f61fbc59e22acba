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
 * Usage: IdleTlsClients HOST PORT COUNT HOLD_SECONDS
 */
public final class IdleTlsClients {
    private IdleTlsClients() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int count = Integer.parseInt(args[2]);
        long holdMillis = Long.parseLong(args[3]) * 1000;
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
                socket.getOutputStream().write(request);
                readResponse(new BufferedInputStream(socket.getInputStream()));
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
