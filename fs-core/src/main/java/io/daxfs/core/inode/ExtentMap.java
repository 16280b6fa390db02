package io.daxfs.core.inode;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.alloc.MetaBlocks;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.journal.Transaction;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
    /** The owning inode's number (written into new overflow blocks); 0 for a map loaded without checks. */
    private final long ino;
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

    private ExtentMap(long inodeOffset, long ino) {
        this.inodeOffset = inodeOffset;
        this.ino = ino;
    }

    /**
     * Reads the slots of the inode at {@code inodeOffset} and its overflow chain, checking
     * only what keeps the reading itself safe (the chain stays inside the device, is finite
     * and has no loop, extents do not overlap): for tools that look at an image as it is.
     *
     * @throws CorruptFileSystemException if even that fails
     */
    public static ExtentMap load(MemorySegment media, long inodeOffset) {
        return load(media, inodeOffset, null, 0);
    }

    /**
     * Reads and verifies the block map of inode {@code ino}: every extent lies in the data
     * area and ends before the largest file size, no two overlap (logically or physically,
     * overflow blocks included), and every overflow block is in the data area, carries its
     * magic, its owner and a matching checksum; the chain is finite and has no loop.
     *
     * @throws CorruptFileSystemException naming the inode and block, if not
     */
    public static ExtentMap load(MemorySegment media, Checksums checksums, long ino) {
        return load(media, checksums.geometry().inodeOffset(ino), checksums, ino);
    }

    private static ExtentMap load(MemorySegment media, long inodeOffset, Checksums checksums, long ino) {
        ExtentMap m = new ExtentMap(inodeOffset, ino);
        long deviceBlocks = media.byteSize() >>> Geometry.BLOCK_SHIFT;
        long first = checksums != null ? checksums.geometry().dataStart() : 0;
        long end = checksums != null ? Math.min(deviceBlocks, checksums.geometry().totalBlocks()) : deviceBlocks;
        if (inodeOffset < 0 || inodeOffset > media.byteSize() - Geometry.INODE_SIZE) {
            throw new CorruptFileSystemException("inode at byte " + inodeOffset + " lies outside the device", ino,
                    CorruptFileSystemException.NONE);
        }
        long inodeBlock = inodeOffset >>> Geometry.BLOCK_SHIFT;
        m.loadSlots(media, inodeOffset + InodeLayout.INLINE_SLOTS, InodeLayout.INLINE_SLOT_COUNT, first, end,
                inodeBlock);
        long next = media.get(MediaOrder.LONG, inodeOffset + InodeLayout.OVERFLOW);
        Set<Long> seen = new HashSet<>();
        while (next != 0) {
            if (next < first || next >= end) {
                throw new CorruptFileSystemException("inode " + ino + ": extent overflow block " + next
                        + " lies outside the data area", m.ino, inodeBlock);
            }
            if (!seen.add(next)) {
                throw new CorruptFileSystemException("inode " + ino + ": extent overflow chain loops at block " + next,
                        m.ino, next);
            }
            long base = next << Geometry.BLOCK_SHIFT;
            if (checksums != null) {
                checkOverflowBlock(media, checksums, ino, next);
            }
            m.overflowBlocks.add(next);
            m.loadSlots(media, base + ExtentSlots.OVERFLOW_HEADER, ExtentSlots.SLOTS_PER_OVERFLOW_BLOCK, first, end,
                    next);
            next = media.get(MediaOrder.LONG, base + ExtentSlots.OVERFLOW_NEXT);
        }
        m.checkNoPhysicalOverlap(inodeBlock);
        return m;
    }

    /** Magic, owner and checksum of overflow block {@code blk} of inode {@code ino}. */
    private static void checkOverflowBlock(MemorySegment media, Checksums checksums, long ino, long blk) {
        long base = blk << Geometry.BLOCK_SHIFT;
        String problem = null;
        if (media.get(MediaOrder.INT, base + ExtentSlots.OVERFLOW_MAGIC) != ExtentSlots.OVERFLOW_MAGIC_VALUE) {
            problem = "has no overflow-block magic";
        } else if (media.get(MediaOrder.LONG, base + ExtentSlots.OVERFLOW_OWNER) != ino) {
            problem = "belongs to inode " + media.get(MediaOrder.LONG, base + ExtentSlots.OVERFLOW_OWNER);
        } else if (!checksums.verify(Checksums.Kind.OVERFLOW, media, base)) {
            problem = "fails its checksum";
        }
        if (problem != null) {
            throw new CorruptFileSystemException("inode " + ino + ": extent overflow block " + blk + " " + problem, ino,
                    blk);
        }
    }

    private void loadSlots(MemorySegment media, long firstSlot, int count, long first, long end, long where) {
        for (int i = 0; i < count; i++) {
            long slot = firstSlot + (long) i * ExtentSlots.SLOT_SIZE;
            long w1 = media.get(MediaOrder.LONG, slot + 8);
            long len = ExtentSlots.length(w1);
            if (len == 0) {
                freeSlots.add(slot);
                continue;
            }
            long lblk = media.get(MediaOrder.LONG, slot);
            long pblk = ExtentSlots.physical(w1);
            if (pblk < first || pblk >= end || len > end - pblk) {
                throw new CorruptFileSystemException("inode " + ino + ": extent " + pblk + "+" + len
                        + " lies outside the data area", ino, where);
            }
            if (lblk < 0 || lblk > ExtentSlots.MAX_FILE_BLOCKS - len) {
                throw new CorruptFileSystemException("inode " + ino + ": extent at logical block " + lblk
                        + " lies past the largest file", ino, where);
            }
            FileExtent e = new FileExtent(lblk, len, pblk, slot);
            FileExtent before = floor(lblk + len - 1);
            if (before != null && before.logicalEnd() > lblk) {
                throw new CorruptFileSystemException("inode " + ino + ": extents overlap at logical block "
                        + Math.max(lblk, before.logical()), ino, where);
            }
            FileExtent after = nextAfter(lblk);
            if (after != null && after.logical() < lblk + len) {
                throw new CorruptFileSystemException("inode " + ino + ": extents overlap at logical block "
                        + after.logical(), ino, where);
            }
            byLogical.put(lblk, e);
            mappedBlocks += len;
        }
    }

    /** No two extents, and no extent and overflow block, share a device block. */
    private void checkNoPhysicalOverlap(long where) {
        List<long[]> runs = new ArrayList<>(byLogical.size() + overflowBlocks.size());
        for (FileExtent e : byLogical.values()) {
            runs.add(new long[] {e.physical(), e.length()});
        }
        for (long b : overflowBlocks) {
            runs.add(new long[] {b, 1});
        }
        runs.sort(Comparator.comparingLong(r -> r[0]));
        for (int i = 1; i < runs.size(); i++) {
            long[] prev = runs.get(i - 1);
            if (prev[0] + prev[1] > runs.get(i)[0]) {
                throw new CorruptFileSystemException("inode " + ino + ": block " + runs.get(i)[0]
                        + " is mapped twice", ino, where);
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
        long base = blk << Geometry.BLOCK_SHIFT;
        own.putInt(base + ExtentSlots.OVERFLOW_MAGIC, ExtentSlots.OVERFLOW_MAGIC_VALUE);
        own.putLong(base + ExtentSlots.OVERFLOW_OWNER, ino);
        own.seal(Checksums.Kind.OVERFLOW, base);
        long link;
        if (overflowBlocks.isEmpty()) {
            link = inodeOffset + InodeLayout.OVERFLOW;
        } else {
            link = overflowBlocks.getLast() << Geometry.BLOCK_SHIFT;
            own.seal(Checksums.Kind.OVERFLOW, link);
        }
        own.putLong(link, blk);
        own.addLong(inodeOffset + InodeLayout.BLOCKS, 1);
        meta.commit(own);
        overflowBlocks.add(blk);
        long slots = base + ExtentSlots.OVERFLOW_HEADER;
        for (int i = 0; i < ExtentSlots.SLOTS_PER_OVERFLOW_BLOCK; i++) {
            freeSlots.add(slots + (long) i * ExtentSlots.SLOT_SIZE);
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
                sealSlot(tx, e.slot());
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

    private void writeSlot(Transaction tx, FileExtent e) {
        tx.putLong(e.slot(), e.logical());
        tx.putLong(e.slot() + 8, ExtentSlots.packPhysical(e.physical(), e.length()));
        sealSlot(tx, e.slot());
    }

    /** A slot in an overflow block changes: the block gets a new checksum (inline slots: the inode's, by address). */
    private void sealSlot(Transaction tx, long slot) {
        if (!isInline(slot)) {
            tx.seal(Checksums.Kind.OVERFLOW, slot & ~(Geometry.BLOCK_SIZE - 1L));
        }
    }
}
