package io.daxfs.core.concurrent;

import io.daxfs.core.alloc.Extent;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extents that have left their file but may not be reused yet (after XFS's
 * xfs_extent_busy.c and Chinner's answer in seed 003).
 *
 * <p>An extent freed by truncate, hole punch, unlink or overwrite is detached from its file at
 * once - freeing never blocks - and inserted here. It stays busy while either holds:
 * <ul>
 * <li>{@code PENDING}: the transaction that freed it is not yet durable; if it were lost in a
 *     crash the extent would still belong to its file;</li>
 * <li>referenced: a {@link Reference} overlaps it - a read or copy in flight, a direct
 *     mapping or a lease taken before the free.</li>
 * </ul>
 * The last of these to go away clears the extent: its backing memory is released (a
 * pmem-backed file is punched, so it reads as zeros) and it returns to free space through
 * the {@link Reuse} sink. The allocator never sees a busy extent, so it can never hand out
 * blocks that an old reader may still copy from.
 *
 * <p>References are counted per physical range and exist independently of the busy list: a
 * reader pins the blocks it is about to copy whether or not they are ever freed.
 *
 * <p>{@link #generation()} moves every time an extent clears, so an allocator that finds only
 * busy space can {@link #awaitClear wait} for it instead of failing with ENOSPC.
 *
 * <p>Synchronized leaf monitor; the sink is called outside it.
 */
public final class BusyExtents {
    /** Where cleared extents go: release their memory, then return them to free space. */
    public interface Reuse {
        void reuse(long start, long length);
    }

    /** A hold on physical blocks; {@link #close()} drops it (idempotent). */
    public final class Reference implements AutoCloseable {
        final long start;
        final long end;
        final String why;
        private boolean dropped;

        Reference(long start, long end, String why) {
            this.start = start;
            this.end = end;
            this.why = why;
        }

        @Override
        public void close() {
            drop(this);
        }

        @Override
        public String toString() {
            return why + " [" + start + ", " + end + ")";
        }
    }

    private static final class Busy {
        final long start;
        final long end;
        boolean pending;

        Busy(long start, long end) {
            this.start = start;
            this.end = end;
            this.pending = true;
        }
    }

    private final TreeMap<Long, Busy> busy = new TreeMap<>();
    private final List<Reference> references = new ArrayList<>();
    private final Reuse sink;
    private long generation;
    private volatile boolean enabled = true;

    public BusyExtents(Reuse sink) {
        this.sink = sink;
    }

    /**
     * Test switch: when off, freed extents go straight back to free space (what a file system
     * without a busy list does). Race-catalog tests use it to show the hazard it prevents.
     */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** Pins physical blocks [start, start+length) for a read, copy, mapping or lease. */
    public synchronized Reference reference(long start, long length, String why) {
        Reference r = new Reference(start, start + length, why);
        references.add(r);
        return r;
    }

    /**
     * An extent left its file in a transaction not yet durable. Call {@link #durable} with the
     * same extent once the transaction commits.
     */
    public void insert(Extent e) {
        if (!enabled) {
            return; // durable() will hand it straight back
        }
        synchronized (this) {
            Map.Entry<Long, Busy> before = busy.floorEntry(e.start());
            if (before != null && before.getValue().end > e.start()) {
                throw new IllegalStateException("extent " + e + " freed twice (already busy)");
            }
            busy.put(e.start(), new Busy(e.start(), e.end()));
        }
    }

    /** The freeing transaction of {@code e} is durable; clear it unless it is referenced. */
    public void durable(Extent e) {
        if (!enabled) {
            sink.reuse(e.start(), e.length());
            return;
        }
        boolean clear;
        synchronized (this) {
            Busy b = busy.get(e.start());
            if (b == null) {
                throw new IllegalStateException("extent " + e + " was never inserted");
            }
            b.pending = false;
            clear = !referenced(b.start, b.end);
            if (clear) {
                busy.remove(b.start);
                generation++;
                notifyAll();
            }
        }
        if (clear) {
            sink.reuse(e.start(), e.length());
        }
    }

    private void drop(Reference r) {
        List<Busy> cleared = new ArrayList<>(0);
        synchronized (this) {
            if (r.dropped) {
                return;
            }
            r.dropped = true;
            references.remove(r);
            // Busy extents overlapping r that are no longer pending nor referenced clear now.
            Map.Entry<Long, Busy> e = busy.floorEntry(r.start);
            Long key = e != null && e.getValue().end > r.start ? e.getKey() : busy.ceilingKey(r.start);
            while (key != null && key < r.end) {
                Busy b = busy.get(key);
                Long next = busy.higherKey(key);
                if (!b.pending && !referenced(b.start, b.end)) {
                    busy.remove(key);
                    cleared.add(b);
                }
                key = next;
            }
            if (!cleared.isEmpty()) {
                generation++;
                notifyAll();
            }
        }
        for (Busy b : cleared) {
            sink.reuse(b.start, b.end - b.start);
        }
    }

    private boolean referenced(long start, long end) {
        for (Reference r : references) {
            if (r.start < end && start < r.end) {
                return true;
            }
        }
        return false;
    }

    /** True if [start, start+length) overlaps a busy extent. */
    public synchronized boolean isBusy(long start, long length) {
        Map.Entry<Long, Busy> e = busy.floorEntry(start + length - 1);
        return e != null && e.getValue().end > start;
    }

    public synchronized long busyBlocks() {
        long n = 0;
        for (Busy b : busy.values()) {
            n += b.end - b.start;
        }
        return n;
    }

    public synchronized int referenceCount() {
        return references.size();
    }

    public synchronized long generation() {
        return generation;
    }

    /**
     * Waits until an extent clears after {@code seenGeneration}, or {@code timeoutMillis}
     * pass. Returns true if something cleared (or nothing is busy: waiting cannot help).
     */
    public synchronized boolean awaitClear(long seenGeneration, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (generation == seenGeneration && !busy.isEmpty()) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }
}
