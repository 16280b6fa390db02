package io.daxfs.core.journal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The new bytes of the bitmap words one transaction changes, as runs of adjacent bytes: the
 * journal resolves a transaction's deferred bit updates into them under the commit lock, from
 * the bitmap as every earlier transaction left it, and emits each run as one record.
 *
 * <p>A transaction changes a few ranges of bits (an inode number, the extents of a file), so
 * the runs are few; a range that overlaps or touches a run already made joins it, which keeps
 * runs disjoint and every byte's updates applied to one copy in order.
 */
final class BitmapRuns {
    private record Run(long start, byte[] bytes) {
        long end() {
            return start + bytes.length;
        }
    }

    private final List<Run> runs = new ArrayList<>(2);
    private long lastStart;

    /**
     * Makes one run cover bytes [from, to) of the media, merging the runs it overlaps or
     * touches, and returns it; {@link #lastStart} is its first byte's offset.
     */
    byte[] cover(MemorySegment media, long from, long to) {
        long start = from;
        long end = to;
        for (Run r : runs) {
            if (r.start() <= end && start <= r.end()) {
                start = Math.min(start, r.start());
                end = Math.max(end, r.end());
            }
        }
        byte[] merged = new byte[Math.toIntExact(end - start)];
        MemorySegment.copy(media, ValueLayout.JAVA_BYTE, start, merged, 0, merged.length);
        for (int i = runs.size() - 1; i >= 0; i--) {
            Run r = runs.get(i);
            if (r.start() >= start && r.end() <= end) {
                System.arraycopy(r.bytes(), 0, merged, (int) (r.start() - start), r.bytes().length);
                runs.remove(i);
            }
        }
        runs.add(new Run(start, merged));
        lastStart = start;
        return merged;
    }

    long lastStart() {
        return lastStart;
    }

    /** Adds one record per run to {@code tx}, in ascending offset. */
    void emit(Transaction tx) {
        runs.sort(java.util.Comparator.comparingLong(Run::start));
        for (Run r : runs) {
            tx.write(r.start(), r.bytes());
        }
        runs.clear();
    }
}
