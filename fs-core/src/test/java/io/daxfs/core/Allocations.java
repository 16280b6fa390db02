package io.daxfs.core;

import java.lang.management.ManagementFactory;

/**
 * Counting the bytes a thread allocates on the Java heap (com.sun.management.ThreadMXBean),
 * for the tests that the request path allocates nothing and that handles stay small. Used by
 * fs-core and, through its test-jar, by fuse-adapter.
 */
public final class Allocations {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Allocations() {
    }

    /** Bytes the calling thread has allocated so far. */
    public static long currentThreadBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /**
     * Runs {@code ops} twice to load classes, link call sites and fill the per-thread spares,
     * then returns the fewest bytes allocated by one of five measured runs. The minimum, because
     * the JIT itself may allocate on the thread now and then (a deoptimized frame re-creates
     * the objects a compiled one had scalar-replaced); code that allocates per operation
     * allocates in every run.
     */
    public static long leastAllocatedBy(Runnable ops) {
        ops.run();
        ops.run();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long before = currentThreadBytes();
            ops.run();
            least = Math.min(least, currentThreadBytes() - before);
        }
        return least;
    }
}
