package io.daxfs.core.stats;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How often fs-core's concurrency mechanisms made a thread wait or retry (docs/concurrency.md),
 * for {@code daxfs stat}: range-lock waits (a read, write or truncate that found a conflicting
 * range held or queued) and the time they waited, and invalidation-sequence retries (a
 * lock-free read of a cached mapping that saw the sequence move and went the locked way).
 *
 * <p>Counted only on the slow path - the waiting or retrying thread pays one atomic add, the
 * fast path nothing. Per JVM, not per file system: the daemon serves one file system; tests
 * that run several compare differences.
 */
public final class Contention {
    private static final AtomicLong RANGE_WAITS = new AtomicLong();
    private static final AtomicLong RANGE_WAIT_NANOS = new AtomicLong();
    private static final AtomicLong INVALIDATION_RETRIES = new AtomicLong();

    private Contention() {
    }

    /** A range-lock request waited {@code nanos} for conflicting ranges to go. */
    public static void rangeLockWaited(long nanos) {
        RANGE_WAITS.incrementAndGet();
        RANGE_WAIT_NANOS.addAndGet(nanos);
    }

    /** A cached mapping read found the invalidation sequence moved and retried under the range lock. */
    public static void invalidationRetried() {
        INVALIDATION_RETRIES.incrementAndGet();
    }

    public static long rangeLockWaits() {
        return RANGE_WAITS.get();
    }

    public static long rangeLockWaitNanos() {
        return RANGE_WAIT_NANOS.get();
    }

    public static long invalidationRetries() {
        return INVALIDATION_RETRIES.get();
    }
}
