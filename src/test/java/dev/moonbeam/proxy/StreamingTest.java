package dev.moonbeam.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies stream through with bounded memory: the proxy never holds more than a few pooled buffers
 * however large the body. The default size keeps the suite fast; scripts/soak.sh --stream 1073741824
 * runs it with -Dmoonbeam.soak.bytes=1073741824 (1 GiB each way) and prints the memory figures.
 */
class StreamingTest {
    private static final long BYTES = Long.getLong("moonbeam.soak.bytes", 64L * 1024 * 1024);
    /** Client, proxy and backend buffers for one exchange, with slack for TLS records: never the body. */
    private static final int MAX_BUFFERS = 8;

    @TempDir
    Path dir;

    /** Deterministic bytes, cheap to generate on both sides. */
    static final class Pattern {
        private final Random random = new Random(42);
        private final byte[] block = new byte[64 * 1024];

        byte[] next() {
            random.nextBytes(block);
            return block;
        }
    }

    static String digest(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void largeUploadAndDownloadStreamWithBoundedMemory() throws Exception {
        try (java.net.ServerSocket origin = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             ProxyHarness proxy = ProxyHarness.start(dir, 1, "[\"127.0.0.1:" + origin.getLocalPort() + "\"]", "")) {
            Thread server = new Thread(() -> serve(origin, BYTES), "stream-origin");
            server.setDaemon(true);
            server.start();
            Sampler sampler = new Sampler(proxy);
            sampler.start();
            long start = System.nanoTime();
            String uploaded = upload(proxy.port());
            long uploadNanos = System.nanoTime() - start;
            start = System.nanoTime();
            String downloaded = download(proxy.port());
            long downloadNanos = System.nanoTime() - start;
            sampler.stop();

            String want = patternDigest(BYTES);
            assertThat(uploaded).isEqualTo(want);
            assertThat(downloaded).isEqualTo(want);
            int peak = proxy.proxy.workers().get(0).loop().buffers().peakOutstanding();
            System.out.printf("streamed %d MiB each way: upload %.0f MiB/s, download %.0f MiB/s; proxy buffers peak %d;"
                            + " heap used max %d MiB (min %d MiB); direct memory max %d KiB%n",
                    BYTES >> 20, mibPerSecond(uploadNanos), mibPerSecond(downloadNanos), peak,
                    sampler.maxHeap >> 20, sampler.minHeap >> 20, sampler.maxDirect >> 10);
            assertThat(peak).isLessThanOrEqualTo(MAX_BUFFERS);
            assertThat(proxy.proxy.workers().get(0).loop().buffers().outstanding()).isLessThanOrEqualTo(2);
        }
    }

    private static double mibPerSecond(long nanos) {
        return (BYTES / 1048576.0) / (nanos / 1e9);
    }

    /** The SHA-256 of the first {@code bytes} of the {@link Pattern}. */
    static String patternDigest(long bytes) throws Exception {
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        Pattern pattern = new Pattern();
        for (long left = bytes; left > 0; left -= 65536) {
            expected.update(pattern.next(), 0, (int) Math.min(65536, left));
        }
        return digest(expected);
    }

    /** Origin: /upload answers with the SHA-256 of the body; /download sends {@code bytes} of the pattern. */
    static void serve(java.net.ServerSocket origin, long bytes) {
        while (!origin.isClosed()) {
            try (java.net.Socket socket = origin.accept()) {
                InputStream in = new java.io.BufferedInputStream(socket.getInputStream(), 65536);
                OutputStream out = socket.getOutputStream();
                while (true) {
                    String line = HttpMessage.readLine(in, true);
                    if (line == null) {
                        break;
                    }
                    long length = 0;
                    for (String h = HttpMessage.readLine(in, false); !h.isEmpty(); h = HttpMessage.readLine(in, false)) {
                        if (h.toLowerCase().startsWith("content-length:")) {
                            length = Long.parseLong(h.substring(15).strip());
                        }
                    }
                    if (line.startsWith("POST /upload")) {
                        MessageDigest md = MessageDigest.getInstance("SHA-256");
                        byte[] buffer = new byte[65536];
                        for (long left = length; left > 0; ) {
                            int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                            if (n < 0) {
                                return;
                            }
                            md.update(buffer, 0, n);
                            left -= n;
                        }
                        TestBackend.respond(out, 200, digest(md));
                    } else {
                        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + bytes + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        Pattern pattern = new Pattern();
                        for (long left = bytes; left > 0; left -= 65536) {
                            out.write(pattern.next(), 0, (int) Math.min(65536, left));
                        }
                        out.flush();
                    }
                }
            } catch (Exception e) {
                // connection over
            }
        }
    }

    private static String upload(int port) throws IOException {
        try (RawClient client = new RawClient(port)) {
            client.socket.setSoTimeout(60_000);
            client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + BYTES + "\r\n\r\n");
            Pattern pattern = new Pattern();
            for (long left = BYTES; left > 0; left -= 65536) {
                client.out.write(pattern.next(), 0, (int) Math.min(65536, left));
            }
            client.out.flush();
            return client.response().bodyText();
        }
    }

    private static String download(int port) throws Exception {
        try (RawClient client = new RawClient(port)) {
            client.socket.setSoTimeout(60_000);
            client.send("GET /download HTTP/1.1\r\nHost: t\r\n\r\n");
            String status = HttpMessage.readLine(client.in, false);
            assertThat(status).startsWith("HTTP/1.1 200");
            while (!HttpMessage.readLine(client.in, false).isEmpty()) {
                // headers
            }
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[65536];
            for (long left = BYTES; left > 0; ) {
                int n = client.in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new IOException("download truncated with " + left + " bytes left");
                }
                md.update(buffer, 0, n);
                left -= n;
            }
            return digest(md);
        }
    }

    /** Samples heap and direct memory of this JVM every 50 ms while the transfer runs. */
    static final class Sampler {
        private final Thread thread;
        private volatile boolean running = true;
        volatile long maxHeap;
        volatile long minHeap = Long.MAX_VALUE;
        volatile long maxDirect;

        Sampler(ProxyHarness proxy) {
            thread = new Thread(this::run, "sampler");
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(2000);
        }

        private void run() {
            BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
            for (int i = 0; i < 100_000 && running; i++) {
                long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                maxHeap = Math.max(maxHeap, heap);
                minHeap = Math.min(minHeap, heap);
                maxDirect = Math.max(maxDirect, direct.getMemoryUsed());
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
