package io.daxfs.core.concurrent;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Recent block-map lookups of one file - "logical blocks [logical, logical+length) are at
 * physical block {@code physical}" or "are a hole" - each stamped with the
 * {@link InvalidationSequence} value at which it was known to be right. A lookup returns an
 * entry only if its stamp equals the caller's fresh sample, so any change to the block map
 * after the entry was made (allocation, truncate, punch) makes it unusable.
 *
 * <p>Lock-free: 16 slots, each covering a 256-block window; a slot holds an immutable entry
 * clipped to its window and is replaced wholesale.
 */
public final class MappingCache {
    /** A cached lookup; {@code physical == HOLE} for a hole. */
    public record Mapping(long logical, long length, long physical, long stamp) {
        public static final long HOLE = -1;

        public boolean isHole() {
            return physical == HOLE;
        }

        public boolean covers(long lblk) {
            return lblk >= logical && lblk < logical + length;
        }

        public long physicalOf(long lblk) {
            return physical + (lblk - logical);
        }
    }

    static final int WINDOW_SHIFT = 8;
    /** Blocks per window; a cached entry never spans two windows. */
    public static final long WINDOW_BLOCKS = 1L << WINDOW_SHIFT;
    static final int SLOTS = 16;
    private final AtomicReferenceArray<Mapping> slots = new AtomicReferenceArray<>(SLOTS);

    private static int slot(long lblk) {
        return (int) ((lblk >>> WINDOW_SHIFT) & (SLOTS - 1));
    }

    /**
     * The entry covering {@code lblk} made at {@code stamp}; with {@code ignoreStamp} (a
     * safeguard switched off) any covering entry.
     */
    public Mapping lookup(long lblk, long stamp, boolean ignoreStamp) {
        if (stamp == InvalidationSequence.UNSTABLE && !ignoreStamp) {
            return null;
        }
        Mapping m = slots.get(slot(lblk));
        if (m == null || !m.covers(lblk) || (!ignoreStamp && m.stamp() != stamp)) {
            return null;
        }
        return m;
    }

    /** Records a lookup, clipped to the window of its first block. */
    public void put(long logical, long length, long physical, long stamp) {
        if (stamp == InvalidationSequence.UNSTABLE || length <= 0) {
            return;
        }
        long windowEnd = ((logical >>> WINDOW_SHIFT) + 1) << WINDOW_SHIFT;
        long len = Math.min(length, windowEnd - logical);
        slots.set(slot(logical), new Mapping(logical, len, physical, stamp));
    }

    public void clear() {
        for (int i = 0; i < SLOTS; i++) {
            slots.set(i, null);
        }
    }
}
