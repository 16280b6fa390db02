package io.daxfs.core.journal;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The checksum step of a commit ({@link Journal#commit}, format 2): adds to a transaction one
 * record per unit it changes, holding the unit's new CRC ({@link Checksums}). Each unit is
 * read as the media holds it now (every earlier transaction applied: the caller holds the
 * commit lock), overlaid with this transaction's records in order - exactly what the unit
 * holds once the transaction is applied. Inodes and bitmap blocks are found by the address of
 * a record; directory and overflow blocks are marked by their writers ({@link Transaction#seal}).
 *
 * <p>Why a class of its own: this runs once per metadata operation under the commit lock, so
 * it allocates nothing per commit once warm (it was a fifth of a create's own time with two
 * maps and a fresh 4 KiB image per commit): the units live in reused parallel arrays, found
 * by a linear scan (a transaction touches a handful of units; a large one - a truncate's
 * overflow blocks - gets a map).
 *
 * <p>Not thread safe: used only under the journal's commit lock.
 */
final class Sealer {
    private static final int NO_UNIT = -1;
    /** Above this many units a lookup goes through a map instead of a scan. */
    private static final int SCAN_LIMIT = 32;

    private final Checksums checksums;
    private final MemorySegment media;
    private final byte[] image = new byte[Geometry.BLOCK_SIZE];
    /** Units of this commit: kind, first byte, and whether a writer marked it (directory, overflow). */
    private Checksums.Kind[] kinds = new Checksums.Kind[16];
    private long[] starts = new long[16];
    private boolean[] marked = new boolean[16];
    private int units;
    /** (unit, record position) pairs, in record order. */
    private int[] touches = new int[32];
    private int touchCount;
    /** For a large transaction (more than SCAN_LIMIT units): unit by key, else null. */
    private java.util.Map<Long, Integer> byKey;
    /** The touches grouped by unit (a stable counting sort), and each unit's first in it. */
    private int[] grouped = new int[16];
    private int[] firstOf = new int[17];
    private int[] cursor = new int[17];
    private long[] crcs = new long[32];

    Sealer(Checksums checksums, MemorySegment media) {
        this.checksums = checksums;
        this.media = media;
    }

    void seal(Transaction tx) {
        units = 0;
        touchCount = 0;
        byKey = null;
        for (Transaction.Seal s : tx.seals()) {
            boolean mark = s.kind() == Checksums.Kind.DIRECTORY || s.kind() == Checksums.Kind.OVERFLOW;
            if (find(s.unitStart(), mark) == NO_UNIT) {
                add(s.kind(), s.unitStart(), mark);
            }
        }
        ByteBuffer recs = tx.recordBuffer();
        int end = recs.position();
        for (int p = 0; p < end; p += 16 + Transaction.pad8(recs.getInt(p + 8))) {
            long from = recs.getLong(p);
            long to = from + recs.getInt(p + 8);
            for (long blk = from & ~(Geometry.BLOCK_SIZE - 1L); blk < to; blk += Geometry.BLOCK_SIZE) {
                int m = find(blk, true);
                if (m != NO_UNIT) {
                    touch(m, p);
                    continue;
                }
                Checksums.Kind k = checksums.kindAt(blk);
                if (k == Checksums.Kind.BITMAP) {
                    touch(unit(k, blk), p);
                } else if (k == Checksums.Kind.INODE) {
                    long first = Math.max(from, blk);
                    long last = Math.min(to, blk + Geometry.BLOCK_SIZE) - 1;
                    for (long u = checksums.unitStart(k, first); u <= last; u += Geometry.INODE_SIZE) {
                        touch(unit(k, u), p);
                    }
                }
            }
        }
        if (units == 0) {
            return;
        }
        byte[] recordBytes = recs.array();
        groupTouches();
        // Computed first, added after: the CRC records must not reseal each other.
        if (crcs.length < 2 * units) {
            crcs = new long[4 * units];
        }
        for (int u = 0; u < units; u++) {
            int size = kinds[u].size();
            long start = starts[u];
            MemorySegment.copy(media, ValueLayout.JAVA_BYTE, start, image, 0, size);
            for (int t = firstOf[u]; t < firstOf[u + 1]; t++) { // in record order: later records win
                int p = grouped[t];
                long target = recs.getLong(p);
                int len = recs.getInt(p + 8);
                long s = Math.max(target, start);
                long e = Math.min(target + len, start + size);
                if (s < e) {
                    System.arraycopy(recordBytes, p + 16 + (int) (s - target), image, (int) (s - start), (int) (e - s));
                }
            }
            crcs[2 * u] = checksums.crcOffset(kinds[u], start);
            crcs[2 * u + 1] = checksums.compute(kinds[u], start, image, 0);
        }
        for (int u = 0; u < units; u++) {
            tx.putInt(crcs[2 * u], (int) crcs[2 * u + 1]);
        }
    }

    /** Fills {@link #grouped} with the record positions of each unit, in record order, from {@link #firstOf}[unit]. */
    private void groupTouches() {
        if (firstOf.length < units + 1) {
            firstOf = new int[2 * units + 1];
        }
        if (grouped.length < touchCount / 2) {
            grouped = new int[touchCount];
        }
        Arrays.fill(firstOf, 0, units + 1, 0);
        for (int t = 0; t < touchCount; t += 2) {
            firstOf[touches[t] + 1]++;
        }
        for (int u = 0; u < units; u++) {
            firstOf[u + 1] += firstOf[u];
        }
        if (cursor.length < units) {
            cursor = new int[firstOf.length];
        }
        System.arraycopy(firstOf, 0, cursor, 0, units);
        for (int t = 0; t < touchCount; t += 2) {
            grouped[cursor[touches[t]]++] = touches[t + 1];
        }
    }

    /** The unit of {@code kind} at {@code start}, added if new (not a marked one). */
    private int unit(Checksums.Kind kind, long start) {
        int u = find(start, false);
        return u != NO_UNIT ? u : add(kind, start, false);
    }

    /** The unit at {@code start} that is marked ({@code mark}) or not, or NO_UNIT. */
    private int find(long start, boolean mark) {
        if (byKey != null) {
            Integer u = byKey.get(key(start, mark));
            return u == null ? NO_UNIT : u;
        }
        for (int u = 0; u < units; u++) {
            if (starts[u] == start && marked[u] == mark) {
                return u;
            }
        }
        return NO_UNIT;
    }

    /** Units start at multiples of 256 bytes, so the low bit can carry the mark. */
    private static long key(long start, boolean mark) {
        return mark ? start | 1 : start;
    }

    private int add(Checksums.Kind kind, long start, boolean mark) {
        if (units == starts.length) {
            kinds = Arrays.copyOf(kinds, units * 2);
            starts = Arrays.copyOf(starts, units * 2);
            marked = Arrays.copyOf(marked, units * 2);
        }
        kinds[units] = kind;
        starts[units] = start;
        marked[units] = mark;
        if (byKey == null && units == SCAN_LIMIT) {
            byKey = new java.util.HashMap<>();
            for (int u = 0; u < units; u++) {
                byKey.put(key(starts[u], marked[u]), u);
            }
        }
        if (byKey != null) {
            byKey.put(key(start, mark), units);
        }
        return units++;
    }

    private void touch(int unit, int recordPosition) {
        if (touchCount + 2 > touches.length) {
            touches = Arrays.copyOf(touches, touches.length * 2);
        }
        touches[touchCount++] = unit;
        touches[touchCount++] = recordPosition;
    }
}
