package dev.moonbeam.loop;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The re-arm that every read and write of every connection does: an inactivity timeout pushed
 * {@code timeoutMillis} past a clock that moves forward, with {@code timeouts} of them scheduled
 * (500 = h2load -c50 -m10's backend exchanges). Each operation re-arms one timeout, round robin,
 * and now and then lets the loop run expired ones, as a select round would. Forked twice: with
 * the launcher's C1-only JIT and with the full tiered JIT. {@link #cancelAndRearm} is what each
 * proxied request does to its exchange's and its pooled backend connection's timeouts: cancel one,
 * arm it again later. Run with
 * {@code scripts/jmh.sh 'dev.moonbeam.loop.*'}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "-XX:TieredStopAtLevel=1")
public class TimersBenchmark {
    @Param({"500", "10000"})
    int timeouts;

    private static final long TIMEOUT_NANOS = 60_000_000_000L;
    private final Timers timers = new Timers();
    private Timeout[] armed;
    private int next;
    private long now;

    @Setup
    public void setUp() {
        armed = new Timeout[timeouts];
        for (int i = 0; i < timeouts; i++) {
            armed[i] = new Timeout(() -> { });
            timers.schedule(armed[i], now + TIMEOUT_NANOS + i);
        }
    }

    @Benchmark
    public long postponeInactivityTimeout() {
        now += 1_000; // 1 µs between I/O events
        timers.schedule(armed[next], now + TIMEOUT_NANOS);
        if (++next == timeouts) {
            next = 0;
        }
        if ((now & 0xFFFF) < 1_000) {
            return timers.nanosUntilNext(now) + timers.runExpired(now); // a select round: nothing due
        }
        return now;
    }

    /** A request's cycle: its timeout cancelled when it ends, armed again by the next one. */
    @Benchmark
    public long cancelAndRearm() {
        now += 1_000;
        Timeout t = armed[next];
        timers.cancel(t);
        timers.schedule(t, now + TIMEOUT_NANOS);
        if (++next == timeouts) {
            next = 0;
        }
        if ((now & 0xFFFF) < 1_000) {
            return timers.nanosUntilNext(now) + timers.runExpired(now);
        }
        return now;
    }

    /** The same with the full JIT, for comparison. */
    @Benchmark
    @Fork(value = 1)
    public long postponeInactivityTimeoutTiered() {
        return postponeInactivityTimeout();
    }
}
