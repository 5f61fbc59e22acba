package dev.moonbeam;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntBinaryOperator;

/**
 * Runs the JIT's C2 compiler threads at a higher nice value than the event loops, so that C2
 * compiles in the loops' idle time instead of taking turns with them on a busy core
 * ({@code MOONBEAM_JIT=tiered-nice} in scripts/moonbeam.sh, which sets {@link #NICE_PROPERTY}).
 *
 * <p>Why: C2's code serves HTTP/2 with about a quarter less user CPU per request than C1's, but at
 * normal priority its compiles share the serving core with the loops after a start and raise the
 * p99 for the first half-minute (docs/benchmarks.md, "JIT"). At nice 10 the kernel gives a busy
 * loop about ten times the compiler's share, and the compiler still finishes in about 20 s under
 * load, because a proxy's loops wait in {@code epoll_wait} part of every round. Only C2: C1's
 * compiles are short and its code is what serves until C2's arrives. And only once MoonBeam
 * listens (the caller's choice): during the warm-up there is nothing to protect.
 *
 * <p>Linux only: a thread id given to {@code setpriority(PRIO_PROCESS, ...)} sets that one
 * thread's nice value, and any process may raise its own threads' nice value without privilege.
 * The call is made through {@code java.lang.foreign} (Java 22+, {@code NativeThreadNice}); the
 * thread ids come from {@code /proc/self/task}. The launcher also turns off the JVM's dynamic
 * compiler threads ({@code -XX:-UseDynamicNumberOfCompilerThreads}), so every compiler thread
 * exists when this runs.
 */
final class CompilerThreadPriority {
    /** The nice value for the compiler threads; set by scripts/moonbeam.sh, absent = leave them. */
    static final String NICE_PROPERTY = "moonbeam.jit.compilerNice";
    private static final Path TASKS = Path.of("/proc/self/task");

    private CompilerThreadPriority() {
    }

    /** Applies {@link #NICE_PROPERTY} if set; returns what happened for the start-up log, or null when not asked. */
    static String applyFromProperty() {
        String value = System.getProperty(NICE_PROPERTY);
        if (value == null || value.isBlank()) {
            return null;
        }
        int nice;
        try {
            nice = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            return "-D" + NICE_PROPERTY + "=" + value + " is not a whole number: C2 compiler threads keep their priority";
        }
        if (nice < 1 || nice > 19) {
            return "-D" + NICE_PROPERTY + "=" + value + " is outside 1..19: C2 compiler threads keep their priority";
        }
        return lower(nice);
    }

    /** Sets every C2 compiler thread of this JVM to {@code nice}; returns a line for the log. */
    static String lower(int nice) {
        if (!Files.isDirectory(TASKS)) {
            return "C2 compiler threads keep their priority: no /proc/self/task (not Linux)";
        }
        IntBinaryOperator setNice;
        try {
            setNice = loadSetNice();
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return "C2 compiler threads keep their priority: " + describe(cause);
        }
        List<Integer> threads = compilerThreadIds();
        if (threads.isEmpty()) {
            return "C2 compiler threads keep their priority: none found in " + TASKS;
        }
        int lowered = 0;
        try {
            for (int threadId : threads) {
                if (setNice.applyAsInt(threadId, nice) == 0 && niceOf(threadId) == nice) {
                    lowered++;
                }
            }
        } catch (RuntimeException e) {
            // A tuning, not a reason to refuse to start.
            return "C2 compiler threads: " + lowered + " of " + threads.size() + " set to nice " + nice + ", then " + e;
        }
        return lowered == threads.size()
                ? "C2 compiler threads (" + lowered + ") at nice " + nice + ": the event loops come first"
                : "C2 compiler threads: " + lowered + " of " + threads.size() + " set to nice " + nice + " (the kernel refused the rest)";
    }

    private static IntBinaryOperator loadSetNice() throws ReflectiveOperationException {
        int feature = Runtime.version().feature();
        if (feature < 22) {
            throw new UnsupportedOperationException("Java " + feature + " has no java.lang.foreign (needs 22+)");
        }
        try {
            Class<?> type = Class.forName("dev.moonbeam.NativeThreadNice");
            var load = type.getDeclaredMethod("load");
            load.setAccessible(true);
            return (IntBinaryOperator) load.invoke(null);
        } catch (ClassNotFoundException e) {
            throw new UnsupportedOperationException("this build has no java.lang.foreign classes (built on Java below 22)");
        }
    }

    private static String describe(Throwable cause) {
        return cause instanceof UnsupportedOperationException ? cause.getMessage() : cause.toString();
    }

    /** Ids of the threads the JVM names "C2 CompilerThread..." (or JVMCI's; comm keeps 15 characters). */
    static List<Integer> compilerThreadIds() {
        List<Integer> ids = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                String name;
                try {
                    name = Files.readString(task.resolve("comm"), StandardCharsets.UTF_8).trim();
                } catch (IOException e) {
                    continue; // the thread ended while we looked
                }
                if (isCompilerThread(name)) {
                    ids.add(Integer.parseInt(task.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        return ids;
    }

    static boolean isCompilerThread(String comm) {
        return comm.startsWith("C2 CompilerThre") || comm.startsWith("JVMCI CompilerT");
    }

    /** The thread's nice value from {@code /proc/self/task/ID/stat} (field 19), or {@link Integer#MIN_VALUE} if unknown. */
    static int niceOf(int threadId) {
        return niceOf(TASKS.resolve(Integer.toString(threadId)));
    }

    /** The nice value of the thread whose {@code /proc/PID/task/ID} folder this is, or {@link Integer#MIN_VALUE}. */
    static int niceOf(Path task) {
        try {
            String stat = Files.readString(task.resolve("stat"), StandardCharsets.UTF_8);
            // The name (field 2) may hold spaces and parentheses: count fields after its closing one.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return Integer.parseInt(fields[19 - 3]);
        } catch (IOException | RuntimeException e) {
            return Integer.MIN_VALUE;
        }
    }
}
