package io.daxfs.core.lifetime;

import io.daxfs.core.alloc.InodeAllocator;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.data.FileData;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeHandles;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.space.Space;
import io.daxfs.core.xattr.XattrStore;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Lock;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;

/**
 * When an inode stops existing: links dropped, open handles, the orphan list, and the final
 * free of its blocks, attributes and number.
 *
 * <p>An inode is freed when its last link goes and no handle is open - by the operation that
 * drops the link, in its own transaction when that fits the journal and otherwise through the
 * orphan list in bounded transactions - or, if handles are open, by the last
 * {@link #release}; after a crash, by the next mount ({@link #finishOrphans}). Two decisions
 * must not interleave: the unlink's "the last name goes while the file is open, so keep it"
 * and the release's "the last handle of a file without names closes, so free it"; both are
 * made inside {@link OpenFiles}' monitor, so exactly one of them frees the inode.
 *
 * <p>Freeing an inode retires its handle and tells the {@link #onFreed listeners} (directory
 * indexes, a front end's names for it) in the commit hook of the freeing transaction, before
 * the number can be allocated again. Locks (see {@link io.daxfs.core.concurrent.LockOrder}):
 * an inode is freed under its inode lock, taken exclusively, and then its whole range lock.
 */
public final class InodeLifetimes {
    private final MemorySegment media;
    private final Geometry geometry;
    private final Journal journal;
    private final Space space;
    private final InodeTable table;
    private final InodeAllocator inodeAllocator;
    private final InodeHandles handles;
    private final FileData data;
    private final XattrStore xattrs;
    private final Orphans orphans;
    private final OpenFiles openFiles = new OpenFiles();
    private final List<LongConsumer> freedListeners = new CopyOnWriteArrayList<>();
    private volatile LongPredicate numberKeeper = ino -> false;

    public InodeLifetimes(MemorySegment media, Geometry geometry, Journal journal, Space space, InodeTable table,
                          InodeAllocator inodeAllocator, InodeHandles handles, FileData data, XattrStore xattrs) {
        this.media = media;
        this.geometry = geometry;
        this.journal = journal;
        this.space = space;
        this.table = table;
        this.inodeAllocator = inodeAllocator;
        this.handles = handles;
        this.data = data;
        this.xattrs = xattrs;
        this.orphans = new Orphans(media, geometry, table);
    }

    /** Runs {@code listener} with the number of every inode freed, before the number is reused. */
    public void onFreed(LongConsumer listener) {
        freedListeners.add(listener);
    }

    // ------------------------------------------------------------------ links

    /**
     * Drops one link of {@code ino} in {@code tx}. At zero links a file that is still open goes
     * on the orphan list and its last {@link #release} frees it. Otherwise the inode is freed in
     * the same transaction when that fits, or goes on the orphan list and the returned action
     * (to run after commit, with no lock held) frees it in several transactions. Caller holds
     * the inode's lock exclusively, and the lock of the directory the link leaves.
     */
    public Runnable dropLink(Transaction tx, long ino, Timestamp now) {
        boolean isDir = FileMode.isDirectory(table.mode(ino));
        long nlink = isDir ? 0 : table.nlink(ino) - 1;
        if (nlink > 0) {
            table.setNlink(tx, ino, nlink);
            table.setCtime(tx, ino, now);
            return () -> { };
        }
        if (openFiles.keepIfOpen(ino)) {
            // The open handles keep using the inode and its blocks (a directory: its attributes,
            // as fstat of a removed directory shows them); a crash before the last release
            // leaves it on the list, and the next mount frees it.
            table.setCtime(tx, ino, now);
            orphan(tx, ino);
            return () -> { };
        }
        Inode in = handles.get(ino);
        try (RangeLock.Range all = in.ranges().lockExclusive(0, Long.MAX_VALUE)) {
            ExtentMap map = in.extents(media);
            int estimate = 128 * (map.extentCount() + map.overflowBlocks().size()) + 256
                    + (int) Math.min(Integer.MAX_VALUE / 2, map.mappedBlocks() / 8)
                    + xattrs.beginFree(tx, in);
            if (journal.fits(tx, estimate)) {
                freeInodeIn(tx, in, map);
                return () -> { };
            }
            space.requireFreeable(ino, map, 0, Long.MAX_VALUE); // fail now, not at the next mount
            orphan(tx, ino);
            return () -> finishOrphan(ino);
        }
    }

    /** Puts {@code ino}, whose last name goes in {@code tx} (or which never had one), on the orphan list. */
    public void orphan(Transaction tx, long ino) {
        table.setNlink(tx, ino, 0);
        table.setFlags(tx, ino, table.flags(ino) | InodeLayout.FLAG_ORPHAN);
        orphans.add(tx, ino);
    }

    /** An orphan without a name (O_TMPFILE) gets its first name in {@code tx}: a crash must keep it. */
    public void adopt(Transaction tx, long ino) {
        orphans.remove(tx, ino);
        table.setFlags(tx, ino, table.flags(ino) & ~InodeLayout.FLAG_ORPHAN);
    }

    /** Frees every block and the inode itself in {@code tx}. Caller holds the inode and its whole range exclusively. */
    private void freeInodeIn(Transaction tx, Inode in, ExtentMap map) {
        long ino = in.ino();
        space.unmapAndFree(tx, in, map, 0, Long.MAX_VALUE, null);
        xattrs.freeIn(tx, in);
        table.setMode(tx, ino, 0);
        table.setNlink(tx, ino, 0);
        table.setSize(tx, ino, 0);
        table.setBlocks(tx, ino, 0);
        table.setFlags(tx, ino, 0);
        tx.updateBits(geometry.inodeBitmapOffset(), ino - 1, 1, false);
        tx.afterCommit(() -> {
            for (LongConsumer l : freedListeners) {
                l.accept(ino); // before the number can be allocated again
            }
            handles.remove(ino);
            in.forget();
            inodeAllocator.release(ino, numberKeeper.test(ino));
        });
    }

    /** Frees an orphan's blocks in bounded transactions, then the inode. */
    private void finishOrphan(long ino) {
        Inode in = handles.get(ino);
        Lock w = in.lock().writeLock();
        w.lock();
        try (RangeLock.Range all = in.ranges().lockExclusive(0, Long.MAX_VALUE)) {
            ExtentMap map = in.extents(media);
            data.freeRange(in, map, 0, Long.MAX_VALUE, null);
            Transaction tx = journal.begin();
            orphans.remove(tx, ino);
            freeInodeIn(tx, in, map);
            journal.commit(tx);
        } finally {
            w.unlock();
        }
    }

    /**
     * Mount's check of the orphan list ({@link Orphans#verify}): the members, or
     * CorruptFileSystemException at the first unsound one.
     */
    public static List<Long> verifyOrphans(MemorySegment media, io.daxfs.core.format.Checksums checksums,
                                           LongPredicate inUse) {
        return Orphans.verify(media, checksums, inUse);
    }

    /** Mount: frees every inode left on the orphan list (after a crash nothing is open). */
    public void finishOrphans() {
        for (long ino : orphans.snapshot()) {
            finishOrphan(ino);
        }
    }

    // ------------------------------------------------------------------ open handles

    /**
     * Registers an open handle of inode {@code ino}: while it is registered, removing its last
     * name keeps the inode and its data (on the orphan list) until the last {@link #release}. A
     * directory removed while open stays too, empty and with link count 0 (the kernel marks it
     * dead and sends only attribute requests and releasedir for it). ENOENT if the inode has no
     * name and no open handle left (it is being freed). Takes the inode's lock shared, which
     * excludes every unlink of it.
     */
    public void open(Inode in) {
        Lock r = in.lock().readLock();
        r.lock();
        try {
            long ino = in.ino();
            if (in.isRetired() || !inodeAllocator.isUsed(ino)) {
                throw new FsException(Errno.ENOENT, "no inode " + ino);
            }
            if (table.nlink(ino) == 0 && !openFiles.isOpen(ino)) {
                throw new FsException(Errno.ENOENT, "inode " + ino + " is being freed");
            }
            openFiles.open(ino);
        } finally {
            r.unlock();
        }
    }

    /** The open handle of a file just made, before anyone else can reach it (create with O_CREAT). */
    public void openNew(long ino) {
        openFiles.open(ino);
    }

    /** The one open handle of an inode made without a name (O_TMPFILE). */
    public void openUnnamed(long ino) {
        openFiles.openUnnamed(ino);
    }

    /** Whether {@code ino} was made without a name and may get its first one ({@link #adopt}). */
    public boolean isLinkable(long ino) {
        return openFiles.isLinkable(ino);
    }

    /** An unnamed inode got its first name: its last release no longer frees it. */
    public void linked(long ino) {
        openFiles.linked(ino);
    }

    /** Whether {@code ino} has an open handle. */
    public boolean isOpen(long ino) {
        return openFiles.isOpen(ino);
    }

    /**
     * Drops one open handle of {@code ino}. The last handle of a file whose last name is gone
     * frees it, in bounded transactions, and takes it off the orphan list.
     */
    public void release(long ino) {
        if (!openFiles.release(ino)) {
            return;
        }
        // The unlink that kept the inode holds its lock until its transaction has committed,
        // so once finishOrphan holds it the media says whether the inode is an orphan. No new
        // handle can appear: open refuses an inode with no name and no handle.
        Inode in = handles.get(ino);
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            if (inodeAllocator.isUsed(ino) && table.nlink(ino) == 0
                    && (table.flags(ino) & InodeLayout.FLAG_ORPHAN) != 0 && !openFiles.isOpen(ino)) {
                finishOrphan(ino);
            }
        } finally {
            w.unlock();
        }
    }

    /** Open handles of {@code ino} (tests, diagnostics). */
    public int openHandles(long ino) {
        return openFiles.handles(ino);
    }

    // ------------------------------------------------------------------ numbers still named elsewhere

    /**
     * Who else may still name an inode number after its inode is freed: {@code keeper} is asked
     * as each inode is freed, and if it says yes the number is not handed to a new inode until
     * {@link #releaseNumber}. The FUSE kernel front end keeps the numbers the kernel has not
     * forgotten (a request for a number reused by another file would reach the wrong file).
     * The inode itself is free: on the media, in statfs, and for every request (ENOENT).
     */
    public void keepFreedNumbersWhile(LongPredicate keeper) {
        this.numberKeeper = keeper;
    }

    /** A number kept by the keeper may be reused now. */
    public void releaseNumber(long ino) {
        inodeAllocator.unhold(ino);
    }

    /** Inode numbers held for a keeper (tests, diagnostics). */
    public int inodeNumbersHeld() {
        return inodeAllocator.held();
    }
}
