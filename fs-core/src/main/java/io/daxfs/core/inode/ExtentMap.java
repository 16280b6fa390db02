package io.daxfs.core.inode;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.alloc.MetaBlocks;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The block map of one file: logical block ranges to physical extents.
 *
 * <p>On media the extents sit unordered in 16-byte slots (7 inline in the inode, then a chain
 * of overflow blocks); a slot changes with one journaled 16-byte record. In memory they are
 * indexed by logical block. Invariants: extents never overlap logically; every extent has
 * exactly one slot; a slot with length 0 is free and listed in {@link #freeSlots}.
 *
 * <p>Concurrency: lookups ({@link #find}, {@link #nextAfter}, {@link #floor}) are lock-free on
 * a skip list of immutable extents. Changes are serialized by this object's monitor, and the
 * callers' range and entry locks keep lookups of a range away from changes to the same
 * range. A change never leaves a transient gap visible outside the range being changed:
 * an entry is replaced in place or its successor is inserted before it is removed.
 */
public final class ExtentMap {
    private final ConcurrentSkipListMap<Long, FileExtent> byLogical = new ConcurrentSkipListMap<>(KEY_ORDER);
    /**
     * The same map, for lookups with a {@link Probe} instead of a boxed key: the read and
     * write paths allocate nothing per request, and boxing a block number (or the entry
     * snapshot that floorEntry returns) would be an allocation in the daemon's C1 code.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private final ConcurrentSkipListMap<Object, FileExtent> byProbe = (ConcurrentSkipListMap) byLogical;

    /** A reusable lookup key of one thread; the map's comparator reads it like a Long. */
    private static final class Probe {
        long value;
    }

    private static final ThreadLocal<Probe> PROBE = ThreadLocal.withInitial(Probe::new);

    /** Typed on Object, so keys reach it uncast: a stored Long or a probe. */
    private static final Comparator<Object> KEY_ORDER = (a, b) -> Long.compare(keyOf(a), keyOf(b));

    private static long keyOf(Object k) {
        return k instanceof Probe p ? p.value : (Long) k;
    }

    private static Probe probe(long lblk) {
        Probe p = PROBE.get();
        p.value = lblk;
        return p;
    }
    private final ArrayDeque<Long> freeSlots = new ArrayDeque<>();
    private final List<Long> overflowBlocks = new ArrayList<>();
    private final long inodeOffset;
    private volatile long mappedBlocks;
    /** Free slots promised to callers of {@link #reserveSlots} and not used yet. */
    private int reserved;

    /**
     * Free slots set aside for one caller: concurrent allocating writers of one file (disjoint
     * ranges run together) each get their own, so none finds its slots taken by another.
     * Close it to give back what was not used.
     */
    public final class Reservation implements AutoCloseable {
        private int left;

        private Reservation(int n) {
            this.left = n;
        }

        long take() {
            synchronized (ExtentMap.this) {
                if (left == 0) {
                    throw new IllegalStateException("extent map change without a reserved slot");
                }
                left--;
                reserved--;
                return freeSlots.poll();
            }
        }

        @Override
        public void close() {
            synchronized (ExtentMap.this) {
                reserved -= left;
                left = 0;
            }
        }
    }

    private ExtentMap(long inodeOffset) {
        this.inodeOffset = inodeOffset;
    }

    /** Reads the slots of the inode at {@code inodeOffset} and its overflow chain. */
    public static ExtentMap load(MemorySegment media, long inodeOffset) {
        ExtentMap m = new ExtentMap(inodeOffset);
        m.loadSlots(media, inodeOffset + InodeLayout.INLINE_SLOTS, InodeLayout.INLINE_SLOT_COUNT);
        long next = media.get(MediaOrder.LONG, inodeOffset + InodeLayout.OVERFLOW);
        int guard = 0;
        while (next != 0) {
            if (++guard > 10_000_000) {
                throw new IllegalStateException("extent overflow chain of inode at " + inodeOffset + " loops");
            }
            long base = next << 12;
            m.overflowBlocks.add(next);
            m.loadSlots(media, base + ExtentSlots.OVERFLOW_HEADER, ExtentSlots.SLOTS_PER_OVERFLOW_BLOCK);
            next = media.get(MediaOrder.LONG, base);
        }
        return m;
    }

    private void loadSlots(MemorySegment media, long first, int count) {
        for (int i = 0; i < count; i++) {
            long slot = first + (long) i * ExtentSlots.SLOT_SIZE;
            long w1 = media.get(MediaOrder.LONG, slot + 8);
            long len = ExtentSlots.length(w1);
            if (len == 0) {
                freeSlots.add(slot);
            } else {
                long lblk = media.get(MediaOrder.LONG, slot);
                byLogical.put(lblk, new FileExtent(lblk, len, ExtentSlots.physical(w1), slot));
                mappedBlocks += len;
            }
        }
    }

    /** The extent containing logical block {@code lblk}, or null (a hole or past the end). */
    public FileExtent find(long lblk) {
        FileExtent e = floor(lblk);
        return e != null && e.logicalEnd() > lblk ? e : null;
    }

    /**
     * The first extent starting after {@code lblk}, or null. (Key, then value: an extent
     * removed in between by a change of another range is skipped, as a snapshot would have it.)
     */
    public FileExtent nextAfter(long lblk) {
        for (Object k = byProbe.higherKey(probe(lblk)); k != null; k = byProbe.higherKey(k)) {
            FileExtent e = byProbe.get(k);
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /** The extent with the highest logical start at or below {@code lblk}, or null. */
    public FileExtent floor(long lblk) {
        for (Object k = byProbe.floorKey(probe(lblk)); k != null; k = byProbe.lowerKey(k)) {
            FileExtent e = byProbe.get(k);
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    public Iterable<FileExtent> extents() {
        return byLogical.values();
    }

    public int extentCount() {
        return byLogical.size();
    }

    public long mappedBlocks() {
        return mappedBlocks;
    }

    public synchronized List<Long> overflowBlocks() {
        return List.copyOf(overflowBlocks);
    }

    /**
     * Makes sure {@code n} free slots exist, allocating overflow blocks in {@code tx}. Call it
     * before any change so that a failure (ENOSPC) leaves the map untouched.
     */
    public synchronized Reservation reserveSlots(Transaction tx, int n, MetaBlocks meta, long goal) {
        while (freeSlots.size() - reserved < n) {
            growChain(meta, goal);
        }
        reserved += n;
        return new Reservation(n);
    }

    /**
     * Appends an overflow block to the chain in a transaction of its own, committed at once
     * (under this map's monitor, so chain growth is serialized): the block is zeroed, linked
     * and counted in the inode's blocks atomically. Transactions of concurrent writers then
     * only fill slots of blocks that are durably linked, whatever order they commit in. If
     * the caller's own transaction is abandoned, the block stays as spare slots.
     */
    private void growChain(MetaBlocks meta, long goal) {
        Transaction own = meta.begin();
        long blk = meta.allocateZeroed(own, goal);
        long link = overflowBlocks.isEmpty()
                ? inodeOffset + InodeLayout.OVERFLOW
                : overflowBlocks.getLast() << 12;
        own.putLong(link, blk);
        own.addLong(inodeOffset + InodeLayout.BLOCKS, 1);
        meta.commit(own);
        overflowBlocks.add(blk);
        long base = (blk << 12) + ExtentSlots.OVERFLOW_HEADER;
        for (int i = 0; i < ExtentSlots.SLOTS_PER_OVERFLOW_BLOCK; i++) {
            freeSlots.add(base + (long) i * ExtentSlots.SLOT_SIZE);
        }
    }

    /**
     * Maps logical [lblk, lblk+len) to physical [pblk, pblk+len). The range must be unmapped.
     * Extends the preceding extent in place when both are contiguous; otherwise needs one free
     * slot (see {@link #reserveSlots}).
     */
    public synchronized void map(Reservation slots, Transaction tx, long lblk, long len, long pblk) {
        FileExtent prev = floor(lblk - 1);
        if (prev != null && prev.logicalEnd() == lblk && prev.physical() + prev.length() == pblk
                && prev.length() + len <= ExtentSlots.MAX_EXTENT_BLOCKS) {
            FileExtent grown = new FileExtent(prev.logical(), prev.length() + len, prev.physical(), prev.slot());
            byLogical.put(grown.logical(), grown);
            writeSlot(tx, grown);
        } else {
            long slot = slots.take();
            FileExtent e = new FileExtent(lblk, len, pblk, slot);
            byLogical.put(lblk, e);
            writeSlot(tx, e);
        }
        mappedBlocks += len;
    }

    /**
     * Unmaps logical [from, to) and returns the physical extents that left the file, in
     * logical order. Needs at most one free slot (a split of one extent into two).
     */
    public List<Extent> unmap(Transaction tx, long from, long to) {
        return unmap(tx, from, to, null);
    }

    /** As {@link #unmap(Transaction, long, long)}; a split takes its slot from {@code slots}. */
    public synchronized List<Extent> unmap(Transaction tx, long from, long to, Reservation slots) {
        List<Extent> freed = new ArrayList<>();
        FileExtent first = floor(from);
        // Boxed on both branches: a long/Long conditional would unbox a null ceilingKey (NPE).
        Long key = first != null && first.logicalEnd() > from
                ? Long.valueOf(first.logical()) : byLogical.ceilingKey(from);
        while (key != null && key < to) {
            FileExtent e = byLogical.get(key);
            Long nextKey = byLogical.higherKey(key);
            long cutStart = Math.max(from, e.logical());
            long cutEnd = Math.min(to, e.logicalEnd());
            freed.add(new Extent(e.physicalOf(cutStart), cutEnd - cutStart));
            mappedBlocks -= cutEnd - cutStart;
            boolean keepHead = cutStart > e.logical();
            boolean keepTail = cutEnd < e.logicalEnd();
            // Order matters for lock-free lookups outside [from, to): insert the tail before
            // the original goes, and replace the head in place under the same key.
            if (keepTail) {
                long slot = keepHead ? takeSlot(slots) : e.slot();
                FileExtent tail = new FileExtent(cutEnd, e.logicalEnd() - cutEnd, e.physicalOf(cutEnd), slot);
                byLogical.put(tail.logical(), tail);
                writeSlot(tx, tail);
            }
            if (keepHead) {
                FileExtent head = new FileExtent(e.logical(), cutStart - e.logical(), e.physical(), e.slot());
                byLogical.put(head.logical(), head);
                writeSlot(tx, head);
            } else {
                byLogical.remove(key);
            }
            if (!keepHead && !keepTail) {
                tx.putLong(e.slot() + 8, 0);
                freeSlots.add(e.slot());
            }
            key = nextKey;
        }
        return freed;
    }

    /** Frees the overflow chain when no extent is left in it. Returns blocks released. */
    public synchronized int releaseOverflowIfEmpty(Transaction tx, MetaBlocks meta) {
        if (overflowBlocks.isEmpty()) {
            return 0;
        }
        for (FileExtent e : byLogical.values()) {
            if (!isInline(e.slot())) {
                return 0;
            }
        }
        int n = overflowBlocks.size();
        tx.putLong(inodeOffset + InodeLayout.OVERFLOW, 0);
        for (long blk : overflowBlocks) {
            meta.free(tx, blk);
            long base = blk << 12;
            freeSlots.removeIf(s -> s >= base && s < base + 4096);
        }
        overflowBlocks.clear();
        return n;
    }

    private boolean isInline(long slot) {
        long first = inodeOffset + InodeLayout.INLINE_SLOTS;
        return slot >= first && slot < first + InodeLayout.INLINE_SLOT_COUNT * ExtentSlots.SLOT_SIZE;
    }

    private long takeSlot(Reservation slots) {
        if (slots != null) {
            return slots.take();
        }
        if (freeSlots.size() - reserved <= 0) {
            throw new IllegalStateException("unmap() split without a reserved slot");
        }
        return freeSlots.poll();
    }

    private static void writeSlot(Transaction tx, FileExtent e) {
        tx.putLong(e.slot(), e.logical());
        tx.putLong(e.slot() + 8, ExtentSlots.packPhysical(e.physical(), e.length()));
    }
}
