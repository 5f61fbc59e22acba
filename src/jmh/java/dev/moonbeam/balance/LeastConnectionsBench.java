package dev.moonbeam.balance;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/** Cost of one pickAndAcquire + release, alone and with loops picking concurrently. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LeastConnectionsBench {
    @Param({"4", "32"})
    int backends;

    private LeastConnections balancer;

    @Setup
    public void setUp() {
        List<Backend> list = new ArrayList<>();
        for (int i = 0; i < backends; i++) {
            int port = 9000 + i;
            list.add(new Backend(new BackendSpec("127.0.0.1:" + port,
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1 + i % 3)));
        }
        balancer = new LeastConnections(list);
    }

    @Benchmark
    @Threads(1)
    public boolean pickOneThread() {
        return balancer.pickAndAcquire(System.nanoTime(), null).release();
    }

    @Benchmark
    @Threads(2)
    public boolean pickTwoThreads() {
        return balancer.pickAndAcquire(System.nanoTime(), null).release();
    }
}
