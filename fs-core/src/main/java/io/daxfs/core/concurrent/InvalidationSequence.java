package io.daxfs.core.concurrent;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A seqschedlock (Arcangeli, 2005): a count of invalidations in progress plus a sequence
 * number, in one word. It guards cached block-mapping lookups of one file.
 *
 * <p>Writers - anything that changes the block map: allocation, truncate, hole punch - call
 * {@link #begin()} before the change and {@link #end()} after it; they never wait for
 * readers and may sleep in between (a journal commit). Readers never wait either: they
 * {@link #sample()} before using a cached mapping and {@link #validate(long)} afterwards, and
 * fall back to a locked lookup if an invalidation ran (or was running) in between.
 *
 * <p>Invariant: while any invalidation is in progress, no sample validates; a sample taken
 * when none was in progress validates only if none has begun since.
 */
public final class InvalidationSequence {
    private static final int WRITER_SHIFT = 48;
    private static final long WRITER = 1L << WRITER_SHIFT;
    private static final long SEQ_MASK = WRITER - 1;
    /** A sample that never validates. */
    public static final long UNSTABLE = -1;

    /** Bits 48..62: invalidations in progress; bits 0..47: sequence (bumped at begin and end). */
    private final AtomicLong state = new AtomicLong();

    public void begin() {
        state.addAndGet(WRITER + 1);
    }

    public void end() {
        state.addAndGet(-WRITER + 1);
    }

    /** The current state if no invalidation is in progress, else {@link #UNSTABLE}. */
    public long sample() {
        long v = state.get();
        return (v >>> WRITER_SHIFT) == 0 ? v : UNSTABLE;
    }

    /** True if nothing was invalidated since {@code sample} was taken. */
    public boolean validate(long sample) {
        return sample != UNSTABLE && state.get() == sample;
    }

    /** The sequence part (diagnostics). */
    public long sequence() {
        return state.get() & SEQ_MASK;
    }
}
