package dev.moonbeam.tools;

import dev.moonbeam.proxy.HttpMessage;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend that fails now and then, for scripts/soak.sh: in cycles it listens for UP seconds and
 * is gone for DOWN seconds (connections refused; the ones open are reset), and while up it resets
 * about 4% of requests and closes without an answer about 4% more; the rest get 200 with a short
 * body, keep-alive. Request bodies are read and discarded. Exits after LIFETIME seconds.
 * Usage: FlakyOrigin HOST PORT LIFETIME_SECONDS [UP_SECONDS DOWN_SECONDS]; when it exits (also on
 * SIGTERM) it prints what it did (answered, reset, closed, cycles).
 */
public final class FlakyOrigin {
    private static final byte[] ANSWER = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nflaky\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong resets = new AtomicLong();
    private final AtomicLong closes = new AtomicLong();
    private final AtomicLong cycles = new AtomicLong();
    private final Random random = new Random(16);

    private FlakyOrigin() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress host = InetAddress.getByName(args[0]);
        int port = Integer.parseInt(args[1]);
        long lifetimeNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
        long upMillis = args.length > 3 ? Long.parseLong(args[3]) * 1000 : 20_000;
        long downMillis = args.length > 4 ? Long.parseLong(args[4]) * 1000 : 5_000;
        new FlakyOrigin().run(new InetSocketAddress(host, port), System.nanoTime() + lifetimeNanos, upMillis, downMillis);
    }

    private void run(InetSocketAddress address, long deadline, long upMillis, long downMillis) throws Exception {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("flaky origin: " + answered.get()
                + " answered, " + resets.get() + " reset, " + closes.get() + " closed without an answer, "
                + cycles.get() + " up/down cycles")));
        for (int cycle = 0; cycle < 1_000_000 && System.nanoTime() - deadline < 0; cycle++) {
            cycles.incrementAndGet();
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(address, 256);
            Thread acceptor = new Thread(() -> accept(server), "flaky-accept");
            acceptor.setDaemon(true);
            acceptor.start();
            sleepUntil(Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(upMillis)));
            server.close();
            for (Socket socket : open) {
                reset(socket); // gone: what was open breaks too
            }
            sleepUntil(Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(downMillis)));
        }
    }

    private void accept(ServerSocket server) {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                open.add(socket);
                Thread worker = new Thread(() -> serve(socket), "flaky-conn");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(120_000);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 65536);
            OutputStream out = socket.getOutputStream();
            for (int requests = 0; requests < 1_000_000; requests++) {
                HttpMessage request = HttpMessage.read(in, false, false); // reads the body too
                if (request == null) {
                    return;
                }
                int roll;
                synchronized (random) {
                    roll = random.nextInt(100);
                }
                if (roll < 4) {
                    resets.incrementAndGet();
                    reset(socket);
                    return;
                }
                if (roll < 8) {
                    closes.incrementAndGet();
                    return;
                }
                out.write(ANSWER);
                out.flush();
                answered.incrementAndGet();
            }
        } catch (IOException gone) {
            // the proxy closed, or we were reset by our own down phase
        } finally {
            open.remove(socket);
        }
    }

    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    private static void sleepUntil(long deadline) throws InterruptedException {
        long left = deadline - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }
}
