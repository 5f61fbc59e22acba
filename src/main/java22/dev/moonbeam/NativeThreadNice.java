package dev.moonbeam;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.util.function.IntBinaryOperator;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * {@code setpriority(PRIO_PROCESS, tid, nice)} from libc through {@code java.lang.foreign}: on
 * Linux a thread id there sets that one thread's nice value. Compiled for Java 22 in its own source
 * folder and found by reflection ({@link CompilerThreadPriority}), so MoonBeam still runs on 17.
 */
final class NativeThreadNice implements IntBinaryOperator {
    private static final int PRIO_PROCESS = 0;

    private final MethodHandle setPriority;

    private NativeThreadNice(MethodHandle setPriority) {
        this.setPriority = setPriority;
    }

    /** Called by reflection; throws when libc has no {@code setpriority}. */
    static NativeThreadNice load() {
        Linker linker = Linker.nativeLinker();
        MethodHandle handle = linker.defaultLookup().find("setpriority")
                .map(symbol -> linker.downcallHandle(symbol, FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT)))
                .orElseThrow(() -> new UnsupportedOperationException("libc has no setpriority"));
        return new NativeThreadNice(handle);
    }

    /** @return 0 on success, -1 when the kernel refused */
    @Override
    public int applyAsInt(int threadId, int nice) {
        try {
            return (int) setPriority.invokeExact(PRIO_PROCESS, threadId, nice);
        } catch (Throwable e) {
            throw new IllegalStateException("setpriority failed", e);
        }
    }
}
