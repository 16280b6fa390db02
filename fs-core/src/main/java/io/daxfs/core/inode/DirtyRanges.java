package io.daxfs.core.inode;

import java.util.ArrayList;
import java.util.List;

/**
 * Device byte ranges a file's data writes touched since its last fsync, merged as they come.
 * fsync flushes exactly these. Bounded: past {@link #MAX_RANGES} ranges the set collapses to
 * "everything", and fsync flushes the whole file. Thread safe.
 *
 * <p>The ranges sit sorted in two arrays, so recording a write allocates nothing once the
 * arrays have grown to the number of ranges the file needs (the write path allocates nothing
 * per request; a drain keeps the arrays). Every open file has one of these, so the arrays are
 * made at the first write and grow by doubling. Invariant: {@code starts} ascending, each
 * range non-empty and separated from the next by at least one byte (touching ranges are
 * merged).
 */
public final class DirtyRanges {
    static final int MAX_RANGES = 256;
    private static final long[] NONE = new long[0];
    private long[] starts = NONE;
    private long[] ends = NONE;
    private int count;
    private boolean everything;

    public synchronized void add(long offset, long length) {
        if (everything || length <= 0) {
            return;
        }
        long start = offset;
        long end = offset + length;
        int first = firstEndingAtOrAfter(start);
        int last = first; // ranges [first, last) overlap or touch [start, end)
        while (last < count && starts[last] <= end) {
            start = Math.min(start, starts[last]);
            end = Math.max(end, ends[last]);
            last++;
        }
        if (last == first) {
            if (count == MAX_RANGES) {
                count = 0;
                everything = true;
                return;
            }
            if (count == starts.length) {
                int capacity = Math.min(MAX_RANGES, Math.max(4, count * 2));
                starts = java.util.Arrays.copyOf(starts, capacity);
                ends = java.util.Arrays.copyOf(ends, capacity);
            }
            System.arraycopy(starts, first, starts, first + 1, count - first);
            System.arraycopy(ends, first, ends, first + 1, count - first);
            count++;
        } else if (last > first + 1) {
            System.arraycopy(starts, last, starts, first + 1, count - last);
            System.arraycopy(ends, last, ends, first + 1, count - last);
            count -= last - first - 1;
        }
        starts[first] = start;
        ends[first] = end;
    }

    /** Index of the first range whose end is at or after {@code pos} ({@code count} if none). */
    private int firstEndingAtOrAfter(long pos) {
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] < pos) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Takes the ranges as [start, end) pairs; null means "everything". Clears the set. */
    public synchronized List<long[]> drain() {
        if (everything) {
            everything = false;
            return null;
        }
        List<long[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(new long[] {starts[i], ends[i]});
        }
        count = 0;
        return out;
    }
}
