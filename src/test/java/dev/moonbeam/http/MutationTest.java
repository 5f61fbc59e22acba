package dev.moonbeam.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bounded randomized mutation of the valid corpus: whatever the bytes, the parsers return only
 * their own statuses and errors, never throw, never grow the head past its limit, and give the
 * same result however the input is split. One fixed seed, one fresh seed that is logged.
 */
class MutationTest {
    private static final System.Logger LOG = System.getLogger(MutationTest.class.getName());
    private static final int ITERATIONS = 4000;
    private static final long TIME_BUDGET_NANOS = 4_000_000_000L;
    private static final Set<String> STATUSES = Set.of("400", "413", "414", "431", "501", "502");
    private static final byte[] INTERESTING = {'\r', '\n', 0, ' ', '\t', ':', ',', ';', '0', 'f',
        (byte) 0xFF, 0x7F, 'G', '/', 'H'};

    static List<Long> seeds() {
        long fresh = System.nanoTime();
        LOG.log(System.Logger.Level.INFO, "MutationTest random seed: {0}", Long.toString(fresh));
        System.out.println("MutationTest random seed: " + fresh);
        return List.of(20240611L, fresh);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void mutatedInputsOnlyEverYieldOwnOutcomes(long seed) {
        Random random = new Random(seed);
        List<Corpus.Case> valid = Corpus.valid();
        long deadline = System.nanoTime() + TIME_BUDGET_NANOS;
        int runs = 0;
        for (int i = 0; i < ITERATIONS && System.nanoTime() < deadline; i++) {
            Corpus.Case base = valid.get(random.nextInt(valid.size()));
            byte[] input = mutate(base.input(), random);
            String context = "seed " + seed + " iteration " + i + " input "
                    + Arrays.toString(input);
            Feeder.Outcome whole = Feeder.whole(base.setup(), input);
            int[] cuts = randomCuts(input.length, random);
            Feeder.Outcome split = Feeder.run(base.setup(), input, cuts);
            assertThat(whole.violation()).as(context).isEmpty();
            assertThat(split.violation()).as(context).isEmpty();
            assertThat(split.summary()).as(context + " cuts " + Arrays.toString(cuts))
                    .isEqualTo(whole.summary());
            if ("ERROR".equals(whole.facts().get("result"))) {
                assertThat(whole.facts().get("status")).as(context).isIn(STATUSES);
                assertThat(HttpError.valueOf(whole.facts().get("error"))).isNotNull();
            }
            runs++;
        }
        assertThat(runs).isGreaterThan(100);
    }

    private static byte[] mutate(byte[] input, Random random) {
        byte[] bytes = input;
        int operations = 1 + random.nextInt(3);
        for (int op = 0; op < operations; op++) {
            int at = bytes.length == 0 ? 0 : random.nextInt(bytes.length);
            byte value = random.nextBoolean()
                    ? INTERESTING[random.nextInt(INTERESTING.length)] : (byte) random.nextInt(256);
            switch (random.nextInt(4)) {
                case 0 -> {
                    if (bytes.length > 0) {
                        bytes = bytes.clone();
                        bytes[at] = value;
                    }
                }
                case 1 -> {
                    byte[] longer = new byte[bytes.length + 1];
                    System.arraycopy(bytes, 0, longer, 0, at);
                    longer[at] = value;
                    System.arraycopy(bytes, at, longer, at + 1, bytes.length - at);
                    bytes = longer;
                }
                case 2 -> {
                    if (bytes.length > 0) {
                        byte[] shorter = new byte[bytes.length - 1];
                        System.arraycopy(bytes, 0, shorter, 0, at);
                        System.arraycopy(bytes, at + 1, shorter, at, bytes.length - at - 1);
                        bytes = shorter;
                    }
                }
                default -> {
                    int length = Math.min(bytes.length - at, 1 + random.nextInt(8));
                    byte[] repeated = new byte[bytes.length + length];
                    System.arraycopy(bytes, 0, repeated, 0, at + length);
                    System.arraycopy(bytes, at, repeated, at + length, bytes.length - at);
                    bytes = repeated;
                }
            }
        }
        return bytes;
    }

    private static int[] randomCuts(int length, Random random) {
        if (length < 2) {
            return new int[0];
        }
        return random.ints(1 + random.nextInt(4), 1, length).sorted().distinct().toArray();
    }
}
