package dev.moonbeam.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class TimersTest {
    private static final long MS = 1_000_000L;

    /** Records the names of fired timeouts in order. */
    private static final class Recorder {
        final List<String> fired = new ArrayList<>();

        Timeout timeout(String name) {
            return new Timeout(() -> fired.add(name));
        }
    }

    static Stream<Arguments> orderCases() {
        // schedule "name@deadlineMs" in the given order; run at each time; expected fired per run
        return Stream.of(
                Arguments.of("a@30 b@10 c@20", "40", "b c a"),
                Arguments.of("a@10 b@10 c@10", "10", "a b c"), // equal deadlines: FIFO
                Arguments.of("a@10 b@20 c@30", "9", ""),
                Arguments.of("a@10 b@20 c@30", "10", "a"), // deadline == now is due
                Arguments.of("a@10 b@20 c@30", "15 25 35", "a | b | c"),
                Arguments.of("a@50 b@5 c@50 d@1", "5 60", "d b | a c"),
                Arguments.of("a@10 a@30 b@20", "25 35", "b | a"), // reschedule later
                Arguments.of("a@30 b@20 a@10", "15 35", "a | b"), // reschedule earlier
                Arguments.of("a@10 b@10 a@10", "10", "b a"), // reschedule moves behind equals
                // Postponed timeouts keep their old heap place until they reach the top:
                Arguments.of("a@10 b@20 a@40", "15 25 45", " | b | a"),
                Arguments.of("a@10 b@30 a@30", "30", "b a"), // postponed onto an equal: behind it
                Arguments.of("a@10 c@30 a@30 b@20", "29 30", "b | c a"),
                Arguments.of("a@10 a@50 a@20", "15 20", " | a"), // postponed, then earlier again
                Arguments.of("a@10 a@20 a@30 a@40 b@35", "30 36 40", " | b | a"),
                // "a!" cancels a: cancelled timeouts stay in the heap until the top or a re-arm.
                Arguments.of("a@10 b@20 a!", "30", "b"),
                Arguments.of("a@10 b@20 a! a@30", "25 35", "b | a"), // re-armed later from its old place
                Arguments.of("a@30 b@20 a! a@10", "15 25 35", "a | b | "), // re-armed earlier
                Arguments.of("a@10 b@10 a! a@10", "10", "b a"), // re-armed onto an equal: behind it
                Arguments.of("a@10 a! a@10 a! b@5", "20", "b"),
                Arguments.of("a@10 b@20 c@30 b! a! c!", "40", ""));
    }

    @ParameterizedTest(name = "[{index}] {0} run at {1} -> {2}")
    @MethodSource("orderCases")
    void firesInDeadlineOrder(String schedule, String runAtMs, String expected) {
        FakeClock clock = new FakeClock();
        long base = clock.nanoTime();
        Timers timers = new Timers(2);
        Recorder recorder = new Recorder();
        Map<String, Timeout> byName = new HashMap<>();
        for (String item : schedule.split(" ")) {
            if (item.endsWith("!")) {
                assertThat(timers.cancel(byName.get(item.substring(0, item.length() - 1)))).as(item).isTrue();
                continue;
            }
            String[] parts = item.split("@");
            Timeout t = byName.computeIfAbsent(parts[0], recorder::timeout);
            timers.schedule(t, base + Long.parseLong(parts[1]) * MS);
        }
        List<String> rounds = new ArrayList<>();
        for (String at : runAtMs.split(" ")) {
            recorder.fired.clear();
            timers.runExpired(base + Long.parseLong(at) * MS);
            rounds.add(String.join(" ", recorder.fired));
        }
        assertThat(String.join(" | ", rounds)).isEqualTo(expected);
    }

    @Test
    void nanosUntilNextSemantics() {
        Timers timers = new Timers();
        long now = 5_000 * MS;
        assertThat(timers.nanosUntilNext(now)).as("nothing scheduled").isEqualTo(-1);
        Timeout t = new Timeout(() -> {});
        timers.schedule(t, now + 7 * MS);
        assertThat(timers.nanosUntilNext(now)).isEqualTo(7 * MS);
        assertThat(timers.nanosUntilNext(now + 7 * MS)).as("due").isZero();
        assertThat(timers.nanosUntilNext(now + 9 * MS)).as("overdue").isZero();
        timers.cancel(t);
        assertThat(timers.nanosUntilNext(now)).isEqualTo(-1);
    }

    @ParameterizedTest(name = "{0} ns -> select({1})")
    @CsvSource({"-1, 0", "0, 1", "1, 1", "999999, 1", "1000000, 1", "1000001, 2", "25000000, 25"})
    void selectTimeoutMillisRoundsUp(long nanos, long millis) {
        assertThat(Timers.selectTimeoutMillis(nanos)).isEqualTo(millis);
    }

    @Test
    void cancelReportsWhetherScheduled() {
        Timers timers = new Timers();
        Recorder recorder = new Recorder();
        Timeout a = recorder.timeout("a");
        assertThat(timers.cancel(a)).isFalse();
        timers.schedule(a, 10);
        assertThat(a.isScheduled()).isTrue();
        assertThat(timers.cancel(a)).isTrue();
        assertThat(timers.cancel(a)).isFalse();
        assertThat(timers.runExpired(100)).isZero();
        assertThat(recorder.fired).isEmpty();

        timers.schedule(a, 10);
        assertThat(timers.runExpired(10)).isEqualTo(1);
        assertThat(a.isScheduled()).as("unscheduled once fired").isFalse();
        assertThat(timers.cancel(a)).isFalse();
        assertThat(timers.size()).isZero();
    }

    @Test
    void cancelledTimeoutNeitherWakesTheLoopNorCounts() {
        Timers timers = new Timers();
        Timeout early = new Timeout(() -> {});
        Timeout late = new Timeout(() -> {});
        timers.schedule(early, 10 * MS);
        timers.schedule(late, 50 * MS);
        timers.cancel(early);
        assertThat(early.isScheduled()).isFalse();
        assertThat(timers.size()).isEqualTo(1);
        assertThat(timers.nanosUntilNext(0)).as("sleeps until the live one").isEqualTo(50 * MS);
        timers.cancel(late);
        assertThat(timers.nanosUntilNext(0)).isEqualTo(-1);
        assertThat(timers.entries()).isZero();
    }

    /** Connections come and go: cancelled entries are purged, never more than the live ones (plus a few). */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {21, 22})
    void cancelledEntriesStayBounded(long seed) {
        Random random = new Random(seed);
        Timers timers = new Timers(16);
        List<Timeout> live = new ArrayList<>();
        for (int op = 0; op < 50_000; op++) {
            // Phases of growth and shrinkage, so the live count swings between 0 and ~2,000.
            boolean grow = (op / 5_000) % 2 == 0 ? random.nextInt(10) < 7 : random.nextInt(10) < 3;
            if (grow || live.isEmpty()) {
                Timeout t = new Timeout(() -> {});
                timers.schedule(t, MS + random.nextInt(1_000) * MS);
                live.add(t);
            } else {
                Timeout t = live.remove(random.nextInt(live.size()));
                assertThat(timers.cancel(t)).isTrue();
                assertThat(t.isScheduled()).isFalse();
            }
            assertThat(timers.size()).isEqualTo(live.size());
            assertThat(timers.entries()).isLessThanOrEqualTo(live.size() + Math.max(65, live.size() + 1));
        }
        for (Timeout t : live) {
            assertThat(t.isScheduled()).isTrue();
        }
        assertThat(timers.runExpired(10_000 * MS)).isEqualTo(live.size());
        assertThat(timers.entries()).isZero();
    }

    @Test
    void callbackMayCancelAndScheduleOthers() {
        Timers timers = new Timers();
        Recorder recorder = new Recorder();
        Timeout victim = recorder.timeout("victim");
        Timeout later = recorder.timeout("later");
        Timeout killer = new Timeout(() -> {
            recorder.fired.add("killer");
            timers.cancel(victim);
            timers.schedule(later, 50);
        });
        timers.schedule(killer, 10);
        timers.schedule(victim, 20);

        assertThat(timers.runExpired(30)).isEqualTo(1);
        assertThat(recorder.fired).containsExactly("killer");
        assertThat(timers.runExpired(50)).isEqualTo(1);
        assertThat(recorder.fired).containsExactly("killer", "later");
    }

    @Test
    void dueTimeoutScheduledFromCallbackRunsNextRoundNotForever() {
        Timers timers = new Timers();
        int[] runs = {0};
        Timeout[] self = new Timeout[1];
        self[0] = new Timeout(() -> {
            runs[0]++;
            timers.schedule(self[0], 0); // re-arm with a deadline already past
        });
        timers.schedule(self[0], 10);

        assertThat(timers.runExpired(100)).isEqualTo(1);
        assertThat(timers.nanosUntilNext(100)).as("due right after this round").isEqualTo(1);
        assertThat(timers.runExpired(101)).isEqualTo(1);
        assertThat(runs[0]).isEqualTo(2);
    }

    @Test
    void throwingCallbackDoesNotStopTheOthers() {
        Timers timers = new Timers();
        Recorder recorder = new Recorder();
        timers.schedule(recorder.timeout("first"), 1);
        timers.schedule(new Timeout(() -> {
            throw new IllegalStateException("expected by test: broken callback");
        }), 2);
        timers.schedule(recorder.timeout("third"), 3);

        assertThat(timers.runExpired(10)).isEqualTo(3);
        assertThat(recorder.fired).containsExactly("first", "third");
        assertThat(timers.failedCallbacks()).isEqualTo(1);
        assertThat(timers.size()).isZero();
    }

    @Test
    void runExpiredFromCallbackIsRejected() {
        Timers timers = new Timers();
        timers.schedule(new Timeout(() -> timers.runExpired(0)), 0);
        timers.runExpired(0);
        assertThat(timers.failedCallbacks()).isEqualTo(1);
    }

    @Test
    void timeoutOfAnotherTimersIsRejected() {
        Timers mine = new Timers();
        Timers other = new Timers();
        Timeout t = new Timeout(() -> {});
        other.schedule(new Timeout(() -> {}), 1);
        other.schedule(new Timeout(() -> {}), 2);
        mine.schedule(t, 5);
        assertThatThrownBy(() -> other.cancel(t)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> other.schedule(t, 9)).isInstanceOf(IllegalArgumentException.class);
        assertThat(other.size()).isEqualTo(2);
        assertThat(mine.cancel(t)).isTrue();
    }

    @ParameterizedTest(name = "clock starting at {0}")
    @ValueSource(longs = {0L, Long.MAX_VALUE - 15 * MS, -3 * MS})
    void orderSurvivesNanoTimeWrapAround(long start) {
        Timers timers = new Timers();
        Recorder recorder = new Recorder();
        timers.schedule(recorder.timeout("late"), start + 30 * MS); // wraps for the MAX_VALUE start
        timers.schedule(recorder.timeout("early"), start + 10 * MS);
        assertThat(timers.nanosUntilNext(start)).isEqualTo(10 * MS);
        assertThat(timers.runExpired(start + 20 * MS)).isEqualTo(1);
        assertThat(timers.runExpired(start + 40 * MS)).isEqualTo(1);
        assertThat(recorder.fired).containsExactly("early", "late");
    }

    /** Random schedules, reschedules and cancels of 10,000 timeouts against a simple model. */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void thousandsOfTimeoutsMatchAModel(long seed) {
        int count = 10_000;
        Random random = new Random(seed);
        Timers timers = new Timers();
        long[] modelDeadline = new long[count]; // -1: not scheduled
        Arrays.fill(modelDeadline, -1);
        List<Integer> fired = new ArrayList<>();
        long[] firedAt = new long[count];
        Timeout[] timeouts = new Timeout[count];
        for (int i = 0; i < count; i++) {
            int id = i;
            timeouts[i] = new Timeout(() -> {
                fired.add(id);
                firedAt[id] = timeouts[id].deadlineNanos();
            });
        }
        for (int op = 0; op < 3 * count; op++) {
            int id = random.nextInt(count);
            if (random.nextInt(5) == 0) {
                assertThat(timers.cancel(timeouts[id])).isEqualTo(modelDeadline[id] >= 0);
                modelDeadline[id] = -1;
            } else {
                long deadline = 1 + random.nextInt(1_000_000);
                timers.schedule(timeouts[id], deadline);
                modelDeadline[id] = deadline;
            }
        }
        long expectedCount = Arrays.stream(modelDeadline).filter(d -> d >= 0).count();
        assertThat(timers.size()).isEqualTo((int) expectedCount);

        long previous = Long.MIN_VALUE;
        for (long now = 0; now <= 1_000_000; now += 997) {
            int before = fired.size();
            timers.runExpired(now);
            for (int k = before; k < fired.size(); k++) {
                int id = fired.get(k);
                assertThat(modelDeadline[id]).as("fires at its last deadline").isEqualTo(firedAt[id]);
                assertThat(modelDeadline[id]).isLessThanOrEqualTo(now).isGreaterThanOrEqualTo(previous);
                previous = modelDeadline[id];
            }
        }
        timers.runExpired(1_000_001);
        assertThat(fired).hasSize((int) expectedCount).doesNotHaveDuplicates();
        assertThat(timers.size()).isZero();
    }

    /**
     * Inactivity-timeout traffic: timeouts re-armed later again and again between runs, with many
     * equal deadlines, some cancelled or moved earlier. Every run must fire exactly what a naive
     * model says, in (deadline, last-scheduled) order, and nanosUntilNext must never pass the model's.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12, 13, 14})
    void postponedTimeoutsFireExactlyAsAModelSays(long seed) {
        int count = 500;
        Random random = new Random(seed);
        Timers timers = new Timers(16);
        long[] deadline = new long[count];
        long[] order = new long[count]; // model tie-breaker: when last scheduled
        Arrays.fill(deadline, -1);
        List<Integer> fired = new ArrayList<>();
        Timeout[] timeouts = new Timeout[count];
        for (int i = 0; i < count; i++) {
            int id = i;
            timeouts[i] = new Timeout(() -> fired.add(id));
        }
        long tick = 0;
        long now = 0;
        for (int round = 0; round < 2_000; round++) {
            for (int op = 0; op < 20; op++) {
                int id = random.nextInt(count);
                int kind = random.nextInt(10);
                if (kind == 0) {
                    assertThat(timers.cancel(timeouts[id])).isEqualTo(deadline[id] >= 0);
                    deadline[id] = -1;
                } else {
                    // Mostly later than now by a few coarse steps (ties), sometimes earlier than before.
                    long at = now + 1 + random.nextInt(kind == 1 ? 3 : 40) * 5L;
                    timers.schedule(timeouts[id], at);
                    deadline[id] = at;
                    order[id] = tick++;
                }
            }
            long expectedNext = -1;
            for (int i = 0; i < count; i++) {
                if (deadline[i] >= 0 && (expectedNext < 0 || deadline[i] < expectedNext)) {
                    expectedNext = deadline[i];
                }
            }
            long untilNext = timers.nanosUntilNext(now);
            if (expectedNext < 0) {
                assertThat(untilNext).isEqualTo(-1); // nothing scheduled: block
            } else {
                // Never later than the real next deadline (the loop must not oversleep one).
                assertThat(untilNext).isBetween(0L, Math.max(0, expectedNext - now));
            }
            now += 1 + random.nextInt(12);
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                if (deadline[i] >= 0 && deadline[i] <= now) {
                    expected.add(i);
                }
            }
            expected.sort((a, b) -> deadline[a] != deadline[b] ? Long.compare(deadline[a], deadline[b]) : Long.compare(order[a], order[b]));
            fired.clear();
            timers.runExpired(now);
            assertThat(fired).as("round %d at %d", round, now).isEqualTo(expected);
            for (int id : expected) {
                deadline[id] = -1;
            }
            assertThat(timers.size()).isEqualTo((int) Arrays.stream(deadline).filter(d -> d >= 0).count());
        }
    }

    @Test
    void schedulingReschedulingAndCancellingAllocateNothing() {
        assumeTrue(Allocations.supported(), "thread allocation counter not available");
        Timers timers = new Timers(4096);
        Timeout[] timeouts = new Timeout[1000];
        for (int i = 0; i < timeouts.length; i++) {
            timeouts[i] = new Timeout(() -> {});
        }
        churn(timers, timeouts, 1); // warm up: the heap array reaches its final size
        long before = Allocations.allocatedBytes();
        churn(timers, timeouts, 50);
        long allocated = Allocations.allocatedBytes() - before;
        // 50,000 rounds of schedule + reschedule + cancel; one object per operation would be MBs.
        assertThat(allocated).isLessThan(4096);
    }

    private static void churn(Timers timers, Timeout[] timeouts, int rounds) {
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < timeouts.length; i++) {
                timers.schedule(timeouts[i], (i * 7919L) % 1000);
            }
            for (int i = 0; i < timeouts.length; i++) {
                timers.schedule(timeouts[i], 2000 + i);
            }
            for (int i = 0; i < timeouts.length; i += 2) {
                timers.cancel(timeouts[i]);
            }
            timers.runExpired(5000);
        }
    }
}
