package dev.moonbeam.loop;

import java.lang.management.ManagementFactory;

/** Bytes allocated by the current thread, for "allocates nothing" assertions (HotSpot only). */
public final class Allocations {
    private static final com.sun.management.ThreadMXBean THREADS = threads();

    private Allocations() {}

    public static boolean supported() {
        return THREADS != null && THREADS.isThreadAllocatedMemorySupported()
                && THREADS.isThreadAllocatedMemoryEnabled();
    }

    public static long allocatedBytes() {
        return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    private static com.sun.management.ThreadMXBean threads() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t) {
            return t;
        }
        return null;
    }
}
