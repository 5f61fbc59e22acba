package dev.moonbeam.loop;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-request timer work of a loop with many connections: push one connection's idle timeout
 * further out (reschedule), and arm-then-cancel a response timeout.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TimersBench {
    @Param({"1000", "100000"})
    int scheduled;

    private Timers timers;
    private Timeout[] timeouts;
    private Timeout extra;
    private long now;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        timers = new Timers(scheduled + 1);
        timeouts = new Timeout[scheduled];
        for (int i = 0; i < scheduled; i++) {
            timeouts[i] = new Timeout(() -> {});
            timers.schedule(timeouts[i], 1_000_000_000L + i * 1000L);
        }
        extra = new Timeout(() -> {});
        now = 0;
    }

    @Benchmark
    public void rescheduleLater() {
        int i = next;
        next = i + 1 == scheduled ? 0 : i + 1;
        now += 1000;
        timers.schedule(timeouts[i], now + 1_000_000_000L);
    }

    @Benchmark
    public boolean scheduleAndCancel() {
        now += 1000;
        timers.schedule(extra, now + 500_000_000L);
        return timers.cancel(extra);
    }
}
