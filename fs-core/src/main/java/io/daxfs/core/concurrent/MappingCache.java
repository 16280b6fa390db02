package io.daxfs.core.concurrent;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Recent block-map lookups of one file - "logical blocks [logical, logical+length) are at
 * physical block {@code physical}" or "are a hole" - each stamped with the
 * {@link InvalidationSequence} value at which it was known to be right. A lookup returns an
 * entry only if its stamp equals the caller's fresh sample, so any change to the block map
 * after the entry was made (allocation, truncate, punch) makes it unusable.
 *
 * <p>16 slots, each covering a 256-block window; an entry is clipped to its window. Entries
 * live in primitive words, not objects, so neither a lookup nor a fill allocates (the read
 * path allocates nothing per request; the daemon's C1 code would not optimize a temporary
 * object away).
 *
 * <p>Each slot is a seqlock: {@code version, logical, length, physical, stamp}. A filler
 * makes the version odd with a compare-and-set (if another filler holds the slot it gives up:
 * this is a cache), writes the four words and makes the version even again; a reader takes
 * the version, the four words and the version again, and misses unless both versions are
 * the same even value. So a reader never combines the words of two entries. All accesses are
 * volatile.
 *
 * <p>A hit is returned packed in one long, see {@link #lookup}.
 */
public final class MappingCache {
    /** {@code physical} of an entry that records a hole. */
    public static final long HOLE = -1;
    /** {@link #lookup}'s result when nothing usable is cached. */
    public static final long MISS = 0;

    static final int WINDOW_SHIFT = 8;
    /** Blocks per window; a cached entry never spans two windows. */
    public static final long WINDOW_BLOCKS = 1L << WINDOW_SHIFT;
    static final int SLOTS = 16;
    private static final int WORDS = 5;
    private static final int VERSION = 0;
    private static final int LOGICAL = 1;
    private static final int LENGTH = 2;
    private static final int PHYSICAL = 3;
    private static final int STAMP = 4;
    /** Bits of a hit holding the blocks left in the entry from the looked-up block (1..256). */
    private static final int RUN_BITS = WINDOW_SHIFT + 1;

    /**
     * Made at the first fill: every inode in use has a cache, most (directories, files only
     * created or written) never fill it, and the words take 640 bytes.
     */
    private volatile AtomicLongArray words;

    private static int slot(long lblk) {
        return (int) ((lblk >>> WINDOW_SHIFT) & (SLOTS - 1)) * WORDS;
    }

    /**
     * The entry covering {@code lblk} made at {@code stamp} (with {@code ignoreStamp}, a
     * safeguard switched off, any covering entry), packed: {@link #MISS} if none, else
     * {@code (physicalOf(lblk) + 1) << 9 | blocksLeft} - read it with {@link #physical},
     * {@link #isHole} and {@link #blocksLeft}.
     */
    public long lookup(long lblk, long stamp, boolean ignoreStamp) {
        if (stamp == InvalidationSequence.UNSTABLE && !ignoreStamp) {
            return MISS;
        }
        AtomicLongArray words = this.words;
        if (words == null) {
            return MISS;
        }
        int s = slot(lblk);
        long version = words.get(s + VERSION);
        if ((version & 1) != 0) {
            return MISS;
        }
        long logical = words.get(s + LOGICAL);
        long length = words.get(s + LENGTH);
        long physical = words.get(s + PHYSICAL);
        long entryStamp = words.get(s + STAMP);
        if (words.get(s + VERSION) != version || length == 0) {
            return MISS;
        }
        if (lblk < logical || lblk >= logical + length || (!ignoreStamp && entryStamp != stamp)) {
            return MISS;
        }
        long physicalOf = physical == HOLE ? HOLE : physical + (lblk - logical);
        return ((physicalOf + 1) << RUN_BITS) | (logical + length - lblk);
    }

    /** Physical block of the looked-up block in a hit ({@link #HOLE} for a hole). */
    public static long physical(long hit) {
        return (hit >>> RUN_BITS) - 1;
    }

    public static boolean isHole(long hit) {
        return physical(hit) == HOLE;
    }

    /** Blocks of the entry from the looked-up block on (at least 1). */
    public static long blocksLeft(long hit) {
        return hit & ((1L << RUN_BITS) - 1);
    }

    /** Records a lookup, clipped to the window of its first block. */
    public void put(long logical, long length, long physical, long stamp) {
        if (stamp == InvalidationSequence.UNSTABLE || length <= 0) {
            return;
        }
        long windowEnd = ((logical >>> WINDOW_SHIFT) + 1) << WINDOW_SHIFT;
        AtomicLongArray words = this.words;
        if (words == null) {
            words = made();
        }
        store(words, slot(logical), logical, Math.min(length, windowEnd - logical), physical, stamp);
    }

    private synchronized AtomicLongArray made() {
        if (words == null) {
            words = new AtomicLongArray(SLOTS * WORDS);
        }
        return words;
    }

    private static void store(AtomicLongArray words, int s, long logical, long length, long physical, long stamp) {
        long version = words.get(s + VERSION);
        if ((version & 1) != 0 || !words.compareAndSet(s + VERSION, version, version + 1)) {
            return; // another filler is in the slot; a cache may drop an entry
        }
        words.set(s + LOGICAL, logical);
        words.set(s + LENGTH, length);
        words.set(s + PHYSICAL, physical);
        words.set(s + STAMP, stamp);
        words.set(s + VERSION, version + 2);
    }

    /** Empties every slot (hygiene only: stamps already keep stale entries from being used). */
    public void clear() {
        AtomicLongArray words = this.words;
        if (words == null) {
            return;
        }
        for (int i = 0; i < SLOTS; i++) {
            store(words, i * WORDS, 0, 0, 0, 0);
        }
    }
}
