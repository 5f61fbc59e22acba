package dev.moonbeam;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The C2 compiler threads' nice value, set on this test JVM's own threads (read back from
 * {@code /proc}). Raising a nice value cannot be undone without privilege, so the tests use 1:
 * the lowest step, harmless to the rest of the run.
 */
class CompilerThreadPriorityTest {
    private static final int NICE = 1;

    @ParameterizedTest
    @CsvSource({
        "C2 CompilerThre, true",
        "C1 CompilerThre, false",
        "JVMCI CompilerT, true",
        "loop-0, false",
        "VM Thread, false",
        "Compiler, false",
        "C3 CompilerThre, false",
    })
    void findsTheJvmsCompilerThreadsByName(String comm, boolean compiler) {
        assertThat(CompilerThreadPriority.isCompilerThread(comm)).isEqualTo(compiler);
    }

    @Test
    void onJava22PlusOnLinuxEveryC2ThreadGetsTheNiceValue() {
        assumeLinux();
        Assumptions.assumeTrue(Runtime.version().feature() >= 22,
                "java.lang.foreign needs Java 22+; this is Java " + Runtime.version().feature() + ": skipped");
        List<Integer> compilerThreads = CompilerThreadPriority.compilerThreadIds();
        assertThat(compilerThreads).as("this JVM's JIT compiler threads").isNotEmpty();

        String outcome = CompilerThreadPriority.lower(NICE);

        assertThat(outcome).isEqualTo("C2 compiler threads (" + compilerThreads.size() + ") at nice " + NICE
                + ": the event loops come first");
        for (int thread : compilerThreads) {
            assertThat(CompilerThreadPriority.niceOf(thread)).as("nice of compiler thread " + thread).isEqualTo(NICE);
        }
    }

    @Test
    void loopsAndC1KeepTheirPriority() {
        assumeLinux();
        Assumptions.assumeTrue(Runtime.version().feature() >= 22, "needs Java 22+: skipped");
        int before = niceOfThisThread();
        List<Integer> c1Threads = threadsNamed("C1 CompilerThre");
        int[] c1Before = c1Threads.stream().mapToInt(CompilerThreadPriority::niceOf).toArray();

        CompilerThreadPriority.lower(NICE);

        assertThat(niceOfThisThread()).isEqualTo(before);
        assertThat(c1Threads.stream().mapToInt(CompilerThreadPriority::niceOf).toArray()).as("C1's threads").isEqualTo(c1Before);
    }

    private static List<Integer> threadsNamed(String prefix) {
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(task -> {
                try {
                    return Files.readString(task.resolve("comm")).startsWith(prefix);
                } catch (IOException e) {
                    return false;
                }
            }).map(task -> Integer.parseInt(task.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void belowJava22TheThreadsAreLeftAndTheLogSaysWhy() {
        assumeLinux();
        Assumptions.assumeTrue(Runtime.version().feature() < 22, "Java 22+ has java.lang.foreign: skipped");
        List<Integer> compilerThreads = CompilerThreadPriority.compilerThreadIds();
        int[] before = compilerThreads.stream().mapToInt(CompilerThreadPriority::niceOf).toArray();

        assertThat(CompilerThreadPriority.lower(NICE)).contains("keep their priority").contains("needs 22+");

        assertThat(compilerThreads.stream().mapToInt(CompilerThreadPriority::niceOf).toArray()).isEqualTo(before);
    }

    @ParameterizedTest
    @CsvSource({
        "ten, is not a whole number",
        "0, is outside 1..19",
        "20, is outside 1..19",
        "-5, is outside 1..19",
    })
    void aBadPropertyValueIsReportedAndNothingChanges(String value, String problem) {
        String saved = System.getProperty(CompilerThreadPriority.NICE_PROPERTY);
        System.setProperty(CompilerThreadPriority.NICE_PROPERTY, value);
        try {
            assertThat(CompilerThreadPriority.applyFromProperty())
                    .isEqualTo("-D" + CompilerThreadPriority.NICE_PROPERTY + "=" + value + " " + problem
                            + ": C2 compiler threads keep their priority");
        } finally {
            restore(saved);
        }
    }

    @Test
    void withoutThePropertyNothingIsAskedOrDone() {
        String saved = System.getProperty(CompilerThreadPriority.NICE_PROPERTY);
        System.clearProperty(CompilerThreadPriority.NICE_PROPERTY);
        try {
            assertThat(CompilerThreadPriority.applyFromProperty()).isNull();
        } finally {
            restore(saved);
        }
    }

    private static void restore(String saved) {
        if (saved == null) {
            System.clearProperty(CompilerThreadPriority.NICE_PROPERTY);
        } else {
            System.setProperty(CompilerThreadPriority.NICE_PROPERTY, saved);
        }
    }

    private static int niceOfThisThread() {
        // /proc/thread-self is this very thread; its name in /proc/self/task is its id.
        Path self = Path.of("/proc/thread-self");
        try {
            int id = Integer.parseInt(self.toRealPath().getFileName().toString());
            return CompilerThreadPriority.niceOf(id);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void assumeLinux() {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "no /proc/self/task (not Linux): skipped");
    }
}
