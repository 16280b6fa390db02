package io.daxfs.core.inode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Device byte ranges a file's data writes touched since its last fsync, merged as they come.
 * fsync flushes exactly these. Bounded: past {@link #MAX_RANGES} ranges the set collapses to
 * "everything", and fsync flushes the whole file. Thread safe.
 */
public final class DirtyRanges {
    static final int MAX_RANGES = 256;
    private final TreeMap<Long, Long> ranges = new TreeMap<>();
    private boolean everything;

    public synchronized void add(long offset, long length) {
        if (everything || length <= 0) {
            return;
        }
        long start = offset;
        long end = offset + length;
        Map.Entry<Long, Long> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
            ranges.remove(before.getKey());
        }
        Map.Entry<Long, Long> next = ranges.ceilingEntry(start);
        while (next != null && next.getKey() <= end) {
            end = Math.max(end, next.getValue());
            ranges.remove(next.getKey());
            next = ranges.ceilingEntry(start);
        }
        ranges.put(start, end);
        if (ranges.size() > MAX_RANGES) {
            ranges.clear();
            everything = true;
        }
    }

    /** Takes the ranges as [start, end) pairs; null means "everything". Clears the set. */
    public synchronized List<long[]> drain() {
        if (everything) {
            everything = false;
            return null;
        }
        List<long[]> out = new ArrayList<>(ranges.size());
        ranges.forEach((s, e) -> out.add(new long[] {s, e}));
        ranges.clear();
        return out;
    }
}
