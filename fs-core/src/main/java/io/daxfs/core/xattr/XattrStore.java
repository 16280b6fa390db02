package io.daxfs.core.xattr;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.space.Space;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.function.IntUnaryOperator;
import java.util.function.Predicate;

/**
 * Extended attributes of every inode: get, set, list, remove, and freeing them with the inode.
 * Format: {@link XattrFormat}.
 *
 * <p>Atomicity and durability. The index is a log; the header's log end, which only a journal
 * transaction changes, decides which records count. A change writes its record past the log
 * end (in the area's last block, or in new blocks that double the area) and flushes it; then
 * one transaction stores the new header (log end, attribute count, block total, extents),
 * frees a replaced or removed out-of-line value through the busy-extent list, adjusts the
 * inode's block count and sets ctime. When superseded records make up half of a full area, the
 * change instead writes a compacted log into fresh blocks and the transaction switches the
 * inode's field to it and frees the old area. Either way a crash before the commit leaves the
 * old set - bytes past the old log end are ignored, fresh blocks were never marked in use - and
 * after it the new one. The call returns once the transaction is durable. A change costs its
 * record plus, amortized, a constant: compaction is paid for by the records it drops.
 *
 * <p>Locking: the inode's attribute lock ({@link Inode#lock()}), shared to read and exclusive
 * to change, held across the commit (lock order: attribute lock, then the journal, then the
 * allocator). The replayed index is cached per inode, validated against the inode's field and
 * the header's log end at every use, and loaded again when evicted or stale.
 *
 * <p>Freeing: {@link #beginFree} (when the last link goes) marks the inode dying - later
 * calls on it fail with ENOENT - and says how much journal space freeing its attributes takes;
 * {@link #freeIn} frees them in the transaction that frees the inode.
 */
public final class XattrStore {
    /** Heap the cache of parsed indexes may use before entries are dropped. */
    static final long CACHE_BUDGET = 32L << 20;

    private final PmemRegion region;
    private final MemorySegment media;
    private final long dataStart;
    private final long totalBlocks;
    private final InodeTable table;
    private final Journal journal;
    private final Space space;
    private final Predicate<Inode> current;
    private final ConcurrentHashMap<Long, XattrSet> cache = new ConcurrentHashMap<>();
    private final AtomicLong cached = new AtomicLong();
    /**
     * Inode handles whose inode is being freed (Inode has identity equality). A handle leaves
     * when the transaction that frees its inode commits: from then on the inode's mode on the
     * media is 0, which {@link #requireLive} checks as well. (Not a weak set: one weak
     * reference per unlinked file made the garbage collector's reference processing a large
     * part of a create-and-unlink workload's pauses.)
     */
    private final Set<Inode> dying = ConcurrentHashMap.newKeySet();

    /**
     * @param current whether a handle is still the live handle of an allocated inode (a caller
     *                that resolved a path just before the file was freed holds a stale one)
     */
    public XattrStore(PmemRegion region, Geometry geometry, InodeTable table, Journal journal, Space space,
                      Predicate<Inode> current) {
        this.region = region;
        this.media = region.readView();
        this.dataStart = geometry.dataStart();
        this.totalBlocks = geometry.totalBlocks();
        this.table = table;
        this.journal = journal;
        this.space = space;
        this.current = current;
    }

    // ------------------------------------------------------------------ reading

    /** The value of {@code name}; ENODATA if it has none. */
    public byte[] get(Inode in, String name) {
        XattrNames.checkLength(name);
        if (XattrNames.isUser(name) && !userAllowed(in)) {
            throw new FsException(Errno.ENODATA, name); // as Linux: user.* exists only on files and directories
        }
        XattrNames.checkNamespace(name);
        Lock r = in.lock().readLock();
        r.lock();
        try {
            requireLive(in);
            XattrEntry e = load(in).entries.get(name);
            if (e == null) {
                throw new FsException(Errno.ENODATA, name);
            }
            if (e.isInline()) {
                return e.inline().clone();
            }
            byte[] v = XattrFormat.readBlocks(media, e.extents(), e.length());
            if (XattrFormat.crc(v) != e.crc()) {
                throw journal.damaged(new CorruptFileSystemException("inode " + in.ino() + ": value of extended attribute '"
                        + name + "' fails its CRC", in.ino(), e.extents().getFirst().start()));
            }
            return v;
        } finally {
            r.unlock();
        }
    }

    /** Every name, in byte order of their UTF-16 form (stable, sorted). */
    public List<String> list(Inode in) {
        Lock r = in.lock().readLock();
        r.lock();
        try {
            requireLive(in);
            return List.copyOf(load(in).entries.keySet());
        } finally {
            r.unlock();
        }
    }

    // ------------------------------------------------------------------ changing

    /**
     * Sets {@code name} to {@code value}. {@code flags}: {@link XattrNames#XATTR_CREATE} (EEXIST
     * if present), {@link XattrNames#XATTR_REPLACE} (ENODATA if absent).
     */
    public void set(Inode in, String name, byte[] value, int flags) {
        set(in, name, value, flags, null);
    }

    /**
     * {@link #set}, and in the same transaction the inode's mode becomes {@code modeChange}
     * applied to its current mode (null: unchanged), as setting a POSIX ACL changes the mode.
     */
    public void set(Inode in, String name, byte[] value, int flags, IntUnaryOperator modeChange) {
        XattrNames.checkFlags(flags);
        byte[] nameBytes = XattrNames.checkLength(name);
        XattrNames.checkValueSize(value.length);
        if (XattrNames.isUser(name) && !userAllowed(in)) {
            throw new FsException(Errno.EPERM, "user attributes are only for regular files and directories");
        }
        XattrNames.checkNamespace(name);
        if (XattrNames.isAcl(name)) {
            XattrNames.checkAcl(value);
        }
        byte[] copy = value.clone();
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            requireLive(in);
            XattrSet cur = load(in);
            XattrEntry old = cur.entries.get(name);
            if (old != null && (flags & XattrNames.XATTR_CREATE) != 0) {
                throw new FsException(Errno.EEXIST, name);
            }
            if (old == null && (flags & XattrNames.XATTR_REPLACE) != 0) {
                throw new FsException(Errno.ENODATA, name);
            }
            long list = (long) cur.listBytes - (old != null ? old.nameBytes().length + 1 : 0) + nameBytes.length + 1;
            if (list > XattrNames.MAX_LIST) {
                throw new FsException(Errno.ENOSPC, "the names of one file's attributes are limited to "
                        + XattrNames.MAX_LIST + " bytes");
            }
            long inlineTotal = (long) cur.inlineBytes - (old != null && old.isInline() ? old.length() : 0) + copy.length;
            boolean inline = copy.length <= XattrFormat.INLINE_MAX && inlineTotal <= XattrFormat.MAX_INLINE_TOTAL;
            boolean compact = false;
            while (true) {
                Transaction tx = journal.begin();
                XattrEntry next;
                Plan plan;
                try {
                    if (inline) {
                        next = XattrEntry.inline(name, nameBytes, copy);
                    } else {
                        List<Extent> vx = space.allocateData(tx, -1, XattrFormat.blocksFor(copy.length));
                        XattrFormat.writeBlocks(region, copy, vx);
                        next = XattrEntry.outOfLine(name, nameBytes, copy.length, vx, XattrFormat.crc(copy));
                    }
                    plan = plan(tx, in, cur, name, next, XattrFormat.setRecord(next), compact);
                } catch (Fragmented f) {
                    journal.abort(tx);
                    compact = true; // the area could not grow in few enough extents: rewrite it whole
                    continue;
                } catch (RuntimeException e) {
                    journal.abort(tx);
                    throw e;
                }
                commit(tx, in, cur, name, next, old, plan, modeChange);
                return;
            }
        } finally {
            w.unlock();
        }
    }

    /** Removes {@code name}; ENODATA if absent. */
    public void remove(Inode in, String name) {
        remove(in, name, null);
    }

    /** {@link #remove}, changing the mode in the same transaction as {@link #set} does. */
    public void remove(Inode in, String name, IntUnaryOperator modeChange) {
        byte[] nameBytes = XattrNames.checkLength(name);
        if (XattrNames.isUser(name) && !userAllowed(in)) {
            throw new FsException(Errno.EPERM, "user attributes are only for regular files and directories");
        }
        XattrNames.checkNamespace(name);
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            requireLive(in);
            XattrSet cur = load(in);
            XattrEntry old = cur.entries.get(name);
            if (old == null) {
                throw new FsException(Errno.ENODATA, name);
            }
            boolean compact = false;
            while (true) {
                Transaction tx = journal.begin();
                Plan plan;
                try {
                    plan = plan(tx, in, cur, name, null, XattrFormat.removeRecord(nameBytes), compact);
                } catch (Fragmented f) {
                    journal.abort(tx);
                    compact = true;
                    continue;
                } catch (RuntimeException e) {
                    journal.abort(tx);
                    throw e;
                }
                commit(tx, in, cur, name, null, old, plan, modeChange);
                return;
            }
        } finally {
            w.unlock();
        }
    }

    /** The index area after a change, written but not yet committed. */
    private record Plan(long pointer, List<Extent> extents, int end, long blocks, byte[] header,
                        List<Extent> freedArea) {
    }

    /** Growing the area would take too many extents; the caller retries with a compaction. */
    private static final class Fragmented extends RuntimeException {
        Fragmented() {
            super(null, null, false, false);
        }
    }

    private static final long MAX_AREA_BLOCKS = XattrFormat.MAX_AREA_BYTES >>> XattrFormat.BLOCK_SHIFT;

    /**
     * Writes the change of {@code name} to {@code next} (null: removal) to the device without
     * making it reachable: appends {@code record} to the log in place (after the log end, which
     * only the transaction moves), grows the area into new blocks, or - when the log is mostly
     * superseded records, or cannot grow - writes a compacted log into fresh blocks.
     */
    private Plan plan(Transaction tx, Inode in, XattrSet cur, String name, XattrEntry next, byte[] record,
                      boolean forceCompact) {
        XattrEntry old = cur.entries.get(name);
        int count = cur.entries.size() + (old == null ? 1 : 0) - (next == null ? 1 : 0);
        long valueBlocks = cur.valueBlocks - (old != null ? old.blocks() : 0) + (next != null ? next.blocks() : 0);
        int valueExtents = cur.valueExtents - (old != null ? old.extentCount() : 0)
                + (next != null ? next.extentCount() : 0);
        long compacted = cur.compactedBytes - (old != null ? old.recordSize() : 0)
                + (next != null ? next.recordSize() : 0);
        if (count == 0) {
            return new Plan(0, List.of(), 0, 0, null, cur.areaExtents);
        }
        if (valueExtents + Math.max(1, cur.areaExtents.size()) > XattrFormat.MAX_EXTENTS) {
            throw new FsException(Errno.ENOSPC, "the attributes of inode " + in.ino() + " would own more than "
                    + XattrFormat.MAX_EXTENTS + " extents");
        }
        long want = (long) cur.end + record.length;
        if (cur.pointer != 0 && !forceCompact) {
            if (want <= cur.capacity()) {
                XattrFormat.writeArea(region, cur.areaExtents, cur.end, record);
                return appended(in, cur.pointer, cur.areaExtents, (int) want, count, cur.areaBlocks() + valueBlocks);
            }
            long needBlocks = XattrFormat.blocksFor(want) - cur.areaBlocks();
            long room = MAX_AREA_BLOCKS - cur.areaBlocks();
            if (compacted * 2 > want && needBlocks <= room) {
                long add = Math.min(room, Math.max(needBlocks, cur.areaBlocks())); // doubles: appends stay O(1)
                Extent last = cur.areaExtents.getLast();
                List<Extent> grown = merge(cur.areaExtents, space.allocateData(tx, last.end(), add));
                if (grown.size() > XattrFormat.MAX_AREA_EXTENTS
                        || grown.size() + valueExtents > XattrFormat.MAX_EXTENTS) {
                    throw new Fragmented();
                }
                XattrFormat.zeroArea(region, grown, cur.capacity());
                XattrFormat.writeArea(region, grown, cur.end, record);
                long areaBlocks = cur.areaBlocks() + add;
                return appended(in, cur.pointer, grown, (int) want, count, areaBlocks + valueBlocks);
            }
        }
        // A fresh, compacted log of the entries after the change.
        if (compacted > XattrFormat.MAX_AREA_BYTES) {
            throw new FsException(Errno.ENOSPC, "attribute index of inode " + in.ino() + " would exceed "
                    + XattrFormat.MAX_AREA_BYTES + " bytes");
        }
        TreeMap<String, XattrEntry> after = new TreeMap<>(cur.entries);
        if (next != null) {
            after.put(name, next);
        } else {
            after.remove(name);
        }
        long areaBlocks = XattrFormat.blocksFor(compacted);
        List<Extent> area = space.allocateData(tx, -1, areaBlocks);
        if (area.size() > XattrFormat.MAX_AREA_EXTENTS || area.size() + valueExtents > XattrFormat.MAX_EXTENTS) {
            throw new FsException(Errno.ENOSPC, "free space too fragmented for the attributes of inode " + in.ino());
        }
        long total = areaBlocks + valueBlocks;
        byte[] bytes = XattrFormat.compacted(in.ino(), after.values(), area, total);
        XattrFormat.writeBlocks(region, bytes, area);
        return new Plan(area.getFirst().start(), area, bytes.length, total, null, cur.areaExtents);
    }

    private static Plan appended(Inode in, long pointer, List<Extent> extents, int end, int count, long blocks) {
        return new Plan(pointer, extents, end, blocks, XattrFormat.header(in.ino(), extents, end, count, blocks),
                List.of());
    }

    /** {@code head} followed by {@code more}, the first of which is joined to the last of head if contiguous. */
    private static List<Extent> merge(List<Extent> head, List<Extent> more) {
        List<Extent> out = new ArrayList<>(head);
        for (Extent e : more) {
            Extent last = out.getLast();
            if (last.end() == e.start() && last.length() + e.length() <= io.daxfs.core.inode.ExtentSlots.MAX_EXTENT_BLOCKS) {
                out.set(out.size() - 1, new Extent(last.start(), last.length() + e.length()));
            } else {
                out.add(e);
            }
        }
        return out;
    }

    /**
     * Journals the switch to {@code plan} (the header, or the inode's field for a new area),
     * frees what the change released, commits, and only then applies the change in memory.
     */
    private void commit(Transaction tx, Inode in, XattrSet cur, String name, XattrEntry next, XattrEntry old,
                        Plan plan, IntUnaryOperator modeChange) {
        if (modeChange != null) {
            int mode = table.mode(in.ino());
            table.setMode(tx, in.ino(), (mode & FileMode.S_IFMT) | (modeChange.applyAsInt(mode) & FileMode.PERMISSION_BITS));
        }
        if (plan.header() != null) {
            tx.write(Geometry.blockOffset(plan.pointer()), plan.header());
        }
        if (plan.pointer() != cur.pointer) {
            tx.putLong(in.offset() + InodeLayout.XATTR, plan.pointer());
        }
        for (Extent e : plan.freedArea()) {
            space.free(tx, e);
        }
        if (old != null && !old.isInline()) {
            for (Extent e : old.extents()) {
                space.free(tx, e);
            }
        }
        if (plan.blocks() != cur.blocks) {
            tx.addLong(in.offset() + InodeLayout.BLOCKS, plan.blocks() - cur.blocks);
        }
        table.setCtime(tx, in.ino(), Timestamp.now());
        journal.commit(tx);
        if (plan.pointer() == 0) {
            forget(in.ino());
            return;
        }
        if (next != null) {
            cur.put(next);
        } else {
            cur.remove(name);
        }
        cur.area(plan.pointer(), plan.extents(), plan.end(), plan.blocks());
        remember(in.ino(), cur);
    }

    // ------------------------------------------------------------------ freeing with the inode

    /**
     * The inode's last link is going: from now on calls on it fail with ENOENT (undone if
     * {@code tx} is aborted). Returns an upper bound of the journal bytes {@link #freeIn} adds.
     */
    public int beginFree(Transaction tx, Inode in) {
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            dying.add(in);
            tx.onAbort(() -> dying.remove(in));
            return freeCost(load(in)); // damaged: EUCLEAN, and the unlink fails with nothing changed
        } finally {
            w.unlock();
        }
    }

    /** Frees every attribute block of {@code in} in {@code tx} and clears the inode's field. */
    public void freeIn(Transaction tx, Inode in) {
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            if (dying.add(in)) {
                tx.onAbort(() -> dying.remove(in));
            }
            long ino = in.ino();
            tx.afterCommit(() -> {
                forget(ino);
                dying.remove(in);
            });
            if (XattrFormat.pointer(media, in.offset()) == 0) {
                return;
            }
            tx.putLong(in.offset() + InodeLayout.XATTR, 0);
            XattrSet s;
            try {
                s = load(in);
            } catch (CorruptFileSystemException e) {
                return; // damaged index (reported): its blocks stay marked in use, and fsck frees them
            }
            for (Extent e : allExtents(s)) {
                space.free(tx, e);
            }
        } finally {
            w.unlock();
        }
    }

    /** Journal bytes to free every extent of {@code s} and clear the field (bitmap records). */
    static int freeCost(XattrSet s) {
        long cost = 64;
        for (Extent e : allExtents(s)) {
            cost += 16 + ((e.length() / 8 + 2 + 7) & ~7L);
        }
        return (int) Math.min(Integer.MAX_VALUE / 4, cost);
    }

    static List<Extent> allExtents(XattrSet s) {
        List<Extent> out = new ArrayList<>(s.extentCount());
        out.addAll(s.areaExtents);
        for (XattrEntry e : s.entries.values()) {
            if (!e.isInline()) {
                out.addAll(e.extents());
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ helpers

    private boolean userAllowed(Inode in) {
        int mode = table.mode(in.ino());
        return FileMode.isRegular(mode) || FileMode.isDirectory(mode);
    }

    /** Caller holds the attribute lock. ENOENT if the inode is being freed or was freed. */
    private void requireLive(Inode in) {
        if (dying.contains(in) || !current.test(in) || table.mode(in.ino()) == 0) {
            throw new FsException(Errno.ENOENT, "inode " + in.ino() + " was removed");
        }
    }

    /** The current set of {@code in}. Caller holds the attribute lock (either mode). */
    private XattrSet load(Inode in) {
        long ptr = XattrFormat.pointer(media, in.offset());
        if (ptr == 0) {
            return XattrSet.empty();
        }
        XattrSet c = cache.get(in.ino());
        if (c != null && c.pointer == ptr && c.end == XattrFormat.logEnd(media, ptr)) {
            return c;
        }
        XattrSet s;
        try {
            s = XattrFormat.decode(media, dataStart, totalBlocks, ptr, in.ino());
        } catch (CorruptFileSystemException e) {
            throw journal.damaged(e);
        }
        remember(in.ino(), s);
        return s;
    }

    private void remember(long ino, XattrSet s) {
        long footprint = s.footprint();
        XattrSet prev = cache.put(ino, s);
        long delta = footprint - (prev == s ? s.accounted : 0) - (prev != null && prev != s ? prev.accounted : 0);
        s.accounted = footprint;
        long total = cached.addAndGet(delta);
        if (total > CACHE_BUDGET) {
            for (Long k : cache.keySet()) {
                if (cached.get() <= CACHE_BUDGET / 2) {
                    break;
                }
                if (k != ino) {
                    forget(k);
                }
            }
        }
    }

    private void forget(long ino) {
        // Looked up first: most freed inodes have no cached set, and a remove of an absent key
        // still locks its hash bin's first node (see Directories.forget).
        XattrSet prev = cache.get(ino) == null ? null : cache.remove(ino);
        if (prev != null) {
            cached.addAndGet(-prev.accounted);
        }
    }

    /** Parsed indexes held in memory (tests). */
    int cachedInodes() {
        return cache.size();
    }
}
