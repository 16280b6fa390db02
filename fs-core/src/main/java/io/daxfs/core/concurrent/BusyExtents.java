package io.daxfs.core.concurrent;

import io.daxfs.core.alloc.Extent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * The last of these to go away clears the extent: it returns to free space through the
 * {@link Reuse} sink, which releases its backing memory (a pmem-backed file is punched) at
 * once or, for a small extent, in a later batch (Space). The allocator never sees a busy extent, so it can never hand out
 * blocks that an old reader may still copy from.
 *
 * <p>References are counted per physical range and exist independently of the busy list: a
 * reader pins the blocks it is about to copy whether or not they are ever freed. A busy extent
 * clears piece by piece: once durable, the parts no reference overlaps clear at once and only
 * the referenced parts stay busy (a lease on 4 KiB of a freed 1 GiB extent holds 4 KiB).
 *
 * <p>Lease references ({@link #leaseReference}) are the long-lived ones, held by another
 * process's direct mapping for as long as it likes. When an extent they overlap leaves its file
 * (its freeing transaction is durable) the lease is <em>broken</em>: its callback runs once,
 * outside the monitor, and the holder is told. Busy space held by leases is reported apart
 * ({@link #leaseHeldBlocks}): it will not clear by waiting, so an allocation does not wait for
 * it and statfs does not count it free.
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
        /** A lease's: run once when an extent it overlaps leaves its file; else null. */
        private final Runnable onBreak;
        private boolean broken;

        Reference(long start, long end, String why, Thread owner, Runnable onBreak) {
            this.start = start;
            this.end = end;
            this.why = why;
            this.owner = owner;
            this.onBreak = onBreak;
        }

        /** A lease reference ({@link #leaseReference}). */
        boolean isLease() {
            return onBreak != null;
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

        Busy(long start, long end, boolean pending) {
            this.start = start;
            this.end = end;
            this.pending = pending;
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

    /** Pins physical blocks [start, start+length) for a copy or mapping. */
    public synchronized Reference reference(long start, long length, String why) {
        Reference r = new Reference(start, start + length, why, null, null);
        references.add(r);
        return r;
    }

    /**
     * Pins physical blocks [start, start+length) for a lease: as {@link #reference}, and
     * {@code onBreak} runs once (outside the monitor, on the thread that made the free durable)
     * when an extent overlapping them leaves its file. It must not block nor take fs-core locks.
     */
    public synchronized Reference leaseReference(long start, long length, Runnable onBreak) {
        Reference r = new Reference(start, start + length, "lease", null, Objects.requireNonNull(onBreak));
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
            r = new Reference(0, 0, "read", Thread.currentThread(), null);
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
            busy.put(e.start(), new Busy(e.start(), e.end(), true));
        }
    }

    /**
     * The freeing transaction of {@code e} is durable: the parts of it nothing references clear
     * now, and every lease overlapping it is broken.
     */
    public void durable(Extent e) {
        if (!enabled) {
            sink.reuse(e.start(), e.length());
            return;
        }
        List<long[]> cleared = new ArrayList<>(1);
        List<Runnable> breaks = null;
        synchronized (this) {
            Busy b = busy.get(e.start());
            if (b == null) {
                throw new IllegalStateException("extent " + e + " was never inserted");
            }
            b.pending = false;
            for (int i = 0, n = references.size(); i < n; i++) {
                Reference r = references.get(i);
                if (r.onBreak != null && !r.broken && r.start < b.end && b.start < r.end) {
                    r.broken = true;
                    if (breaks == null) {
                        breaks = new ArrayList<>(1);
                    }
                    breaks.add(r.onBreak);
                }
            }
            settle(b, cleared);
            if (!cleared.isEmpty()) {
                generation++;
                notifyAll();
            }
        }
        for (long[] c : cleared) {
            sink.reuse(c[0], c[1] - c[0]);
        }
        if (breaks != null) {
            for (Runnable r : breaks) {
                r.run();
            }
        }
    }

    /**
     * Clears what of {@code b} (not pending) no reference overlaps, into {@code cleared}
     * ({start, end} pairs); the referenced parts stay busy. Changes nothing if all of it is
     * referenced. Caller holds the monitor.
     */
    private void settle(Busy b, List<long[]> cleared) {
        long[] held = new long[8];
        int n = 0;
        for (int i = 0, count = references.size(); i < count; i++) {
            Reference r = references.get(i);
            if (r.start < b.end && b.start < r.end) {
                if (n == held.length) {
                    held = Arrays.copyOf(held, n * 2);
                }
                held[n++] = Math.max(r.start, b.start);
                held[n++] = Math.min(r.end, b.end);
            }
        }
        if (n == 0) {
            busy.remove(b.start);
            cleared.add(new long[] {b.start, b.end});
            return;
        }
        long[][] pieces = new long[n / 2][];
        for (int i = 0; i < n; i += 2) {
            pieces[i / 2] = new long[] {held[i], held[i + 1]};
        }
        Arrays.sort(pieces, (x, y) -> Long.compare(x[0], y[0]));
        List<long[]> merged = new ArrayList<>(pieces.length);
        for (long[] p : pieces) {
            long[] last = merged.isEmpty() ? null : merged.getLast();
            if (last != null && p[0] <= last[1]) {
                last[1] = Math.max(last[1], p[1]);
            } else {
                merged.add(p);
            }
        }
        if (merged.size() == 1 && merged.getFirst()[0] == b.start && merged.getFirst()[1] == b.end) {
            return; // wholly referenced: stays as it is
        }
        busy.remove(b.start);
        long cursor = b.start;
        for (long[] m : merged) {
            if (m[0] > cursor) {
                cleared.add(new long[] {cursor, m[0]});
            }
            busy.put(m[0], new Busy(m[0], m[1], false));
            cursor = m[1];
        }
        if (cursor < b.end) {
            cleared.add(new long[] {cursor, b.end});
        }
    }

    /** Drops {@code r}; false if it was already dropped. */
    private boolean drop(Reference r) {
        List<long[]> cleared = null;
        synchronized (this) {
            if (r.dropped) {
                return false;
            }
            r.dropped = true;
            removeReference(r);
            if (busy.isEmpty() || r.end <= busy.firstKey() || r.start >= busy.get(busy.lastKey()).end) {
                return true; // the common case: nothing busy under r; no boxing, no allocation
            }
            // Busy extents overlapping r that are no longer pending clear where unreferenced.
            Map.Entry<Long, Busy> e = busy.floorEntry(r.start);
            Long key = e != null && e.getValue().end > r.start ? e.getKey() : busy.ceilingKey(r.start);
            while (key != null && key < r.end) {
                Busy b = busy.get(key);
                Long next = busy.higherKey(key);
                if (!b.pending) {
                    if (cleared == null) {
                        cleared = new ArrayList<>(1);
                    }
                    settle(b, cleared);
                }
                key = next;
            }
            if (cleared != null && !cleared.isEmpty()) {
                generation++;
                notifyAll();
            }
        }
        if (cleared != null) {
            for (long[] c : cleared) {
                sink.reuse(c[0], c[1] - c[0]);
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

    /**
     * Busy blocks a lease holds: durable busy extents that a lease reference overlaps. They
     * clear only when their holder lets go, however long that takes - waiting will not free
     * them, and statfs does not count them free.
     */
    public synchronized long leaseHeldBlocks() {
        long n = 0;
        for (Busy b : busy.values()) {
            if (!b.pending && leaseOverlaps(b.start, b.end)) {
                n += b.end - b.start;
            }
        }
        return n;
    }

    /** Busy blocks that will clear without a lease holder's help (pending, or read references). */
    public synchronized long clearableBlocks() {
        long n = 0;
        for (Busy b : busy.values()) {
            if (b.pending || !leaseOverlaps(b.start, b.end)) {
                n += b.end - b.start;
            }
        }
        return n;
    }

    /** Busy blocks inside physical [start, end): what a reference over that range holds busy. */
    public synchronized long busyBlocksIn(long start, long end) {
        long n = 0;
        for (Busy b : busy.values()) {
            if (b.start < end && start < b.end) {
                n += Math.min(end, b.end) - Math.max(start, b.start);
            }
        }
        return n;
    }

    private boolean leaseOverlaps(long start, long end) {
        for (int i = 0, n = references.size(); i < n; i++) {
            Reference r = references.get(i);
            if (r.onBreak != null && r.start < end && start < r.end) {
                return true;
            }
        }
        return false;
    }

    /** Why busy space is busy: {@link #byReason}. */
    public static final String DURABILITY = "durability";

    /**
     * Busy space of one reason ({@link #byReason}).
     *
     * @param reason     {@link #DURABILITY} (the freeing transaction is not durable yet), or the
     *                   kind of the reference holding it: "read" (a read or copy in flight),
     *                   "lease", or what {@link #reference} was given ("mapping", "copy")
     * @param extents    busy extents held for this reason
     * @param blocks     blocks they cover
     * @param references references of this kind held now, over busy blocks or not (reads in
     *                   flight, leases); 0 for {@link #DURABILITY}
     */
    public record Reason(String reason, long extents, long blocks, long references) {
    }

    /**
     * The busy list by reason, for {@code daxfs stat}. Each busy extent counts once: pending
     * ones as {@link #DURABILITY}; a durable one stays busy only because references overlap it,
     * and counts under a lease if one does (it will not clear by waiting), else under the first
     * overlapping reference's kind. Reasons with references but nothing busy are listed too.
     * Allocates: for readers, not for the request path.
     */
    public synchronized List<Reason> byReason() {
        Map<String, long[]> by = new TreeMap<>();
        for (Busy b : busy.values()) {
            String why = b.pending ? DURABILITY : holder(b.start, b.end);
            long[] v = by.computeIfAbsent(why, k -> new long[3]);
            v[0]++;
            v[1] += b.end - b.start;
        }
        for (Reference r : references) {
            by.computeIfAbsent(r.why, k -> new long[3])[2]++;
        }
        List<Reason> out = new ArrayList<>(by.size());
        by.forEach((k, v) -> out.add(new Reason(k, v[0], v[1], v[2])));
        return out;
    }

    /** Why durable busy [start, end) is held: a lease if any overlaps, else the first reference's kind. */
    private String holder(long start, long end) {
        if (leaseOverlaps(start, end)) {
            return "lease";
        }
        for (int i = 0, n = references.size(); i < n; i++) {
            Reference r = references.get(i);
            if (r.start < end && start < r.end) {
                return r.why;
            }
        }
        return "unreferenced"; // cannot last: settle clears what nothing references
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
