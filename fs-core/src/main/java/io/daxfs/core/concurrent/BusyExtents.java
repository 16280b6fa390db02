package io.daxfs.core.concurrent;

import io.daxfs.core.alloc.Extent;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extents that have left their file but may not be reused yet (after XFS's
 * xfs_extent_busy.c and Dave Chinner's answer on "dax: fix dma vs truncate", linux-kernel,
 * October 2017).
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

    /**
     * A hold on physical blocks; {@link #close()} drops it (idempotent for references from
     * {@link #reference}; a {@link #readReference} is closed exactly once).
     */
    public final class Reference implements AutoCloseable {
        long start;
        long end;
        String why;
        private boolean dropped;
        /** Recycled by its owner thread after close ({@link #readReference}); else null. */
        private final Thread owner;

        Reference(long start, long end, String why, Thread owner) {
            this.start = start;
            this.end = end;
            this.why = why;
            this.owner = owner;
        }

        @Override
        public void close() {
            if (drop(this) && owner == Thread.currentThread()) {
                spares.giveBack(this);
            }
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

    /** Closed read references of each thread, ready for its next read (per instance: a Reference belongs to one). */
    private final ThreadSpares<Reference> spares = new ThreadSpares<>(4);

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

    /** Pins physical blocks [start, start+length) for a copy, mapping or lease. */
    public synchronized Reference reference(long start, long length, String why) {
        Reference r = new Reference(start, start + length, why, null);
        references.add(r);
        return r;
    }

    /**
     * Pins physical blocks [start, start+length) for the duration of one read on this thread.
     * The reference is recycled once closed, so a read allocates nothing: close it exactly
     * once, on this thread, and do not use it after.
     */
    public Reference readReference(long start, long length) {
        Reference r = spares.take();
        if (r == null) {
            r = new Reference(0, 0, "read", Thread.currentThread());
        }
        r.start = start;
        r.end = start + length;
        r.dropped = false;
        synchronized (this) {
            references.add(r);
        }
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

    /** Drops {@code r}; false if it was already dropped. */
    private boolean drop(Reference r) {
        List<Busy> cleared = null;
        synchronized (this) {
            if (r.dropped) {
                return false;
            }
            r.dropped = true;
            removeReference(r);
            if (busy.isEmpty()) {
                return true; // the common case; no boxing of keys below
            }
            // Busy extents overlapping r that are no longer pending nor referenced clear now.
            Map.Entry<Long, Busy> e = busy.floorEntry(r.start);
            Long key = e != null && e.getValue().end > r.start ? e.getKey() : busy.ceilingKey(r.start);
            while (key != null && key < r.end) {
                Busy b = busy.get(key);
                Long next = busy.higherKey(key);
                if (!b.pending && !referenced(b.start, b.end)) {
                    busy.remove(key);
                    if (cleared == null) {
                        cleared = new ArrayList<>(1);
                    }
                    cleared.add(b);
                }
                key = next;
            }
            if (cleared != null) {
                generation++;
                notifyAll();
            }
        }
        if (cleared != null) {
            for (Busy b : cleared) {
                sink.reuse(b.start, b.end - b.start);
            }
        }
        return true;
    }

    /** Removes {@code r} by identity, searching from the end (the newest is the likeliest). */
    private void removeReference(Reference r) {
        for (int i = references.size() - 1; i >= 0; i--) {
            if (references.get(i) == r) {
                references.remove(i);
                return;
            }
        }
    }

    private boolean referenced(long start, long end) {
        for (int i = 0, n = references.size(); i < n; i++) {
            Reference r = references.get(i);
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
