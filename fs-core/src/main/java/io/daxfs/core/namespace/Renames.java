package io.daxfs.core.namespace;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.dir.Directories;
import io.daxfs.core.dir.Directory;
import io.daxfs.core.dir.DirectoryBlocks;
import io.daxfs.core.dir.DirentLayout;
import io.daxfs.core.inode.ChattrFlags;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.lifetime.InodeLifetimes;

/**
 * rename and renameat2: one transaction that moves a name, replacing (and dropping a link of)
 * an existing target, or swaps two names.
 *
 * <p>Locks, in {@link io.daxfs.core.concurrent.LockOrder}: a rename inside one directory
 * locks it; a rename across directories first takes the rename lock, then both directories,
 * an ancestor before its descendant and unrelated ones in ascending number. With every
 * parent pointer still (only renames across directories change them, and they hold the
 * rename lock), it checks that no directory moves into its own subtree and that the target
 * is not an ancestor of the source. Then it locks the inodes whose entries or link counts
 * change - the source and the target - in ascending number. The checks exclude every cycle:
 * neither child is an ancestor of a locked directory, so children always come after parents.
 */
final class Renames {
    /** renameat2(2) flag: fail with EEXIST instead of replacing the target. */
    static final int NOREPLACE = 1;
    /** renameat2(2) flag: swap the two names atomically; both must exist. */
    static final int EXCHANGE = 2;
    /** renameat2(2) flag: the source name becomes a whiteout, a character device 0/0 (overlayfs). */
    static final int WHITEOUT = 4;

    private final Journal journal;
    private final InodeTable table;
    private final Directories directories;
    private final DirectoryBlocks dirBlocks;
    private final InodeLifetimes lifetimes;
    private final NamespaceLocks locks;
    private final PausePoints pauses;
    private final ChattrFlags chattr;

    Renames(Journal journal, InodeTable table, Directories directories, DirectoryBlocks dirBlocks,
            InodeLifetimes lifetimes, NamespaceLocks locks, PausePoints pauses, ChattrFlags chattr) {
        this.chattr = chattr;
        this.journal = journal;
        this.table = table;
        this.directories = directories;
        this.dirBlocks = dirBlocks;
        this.lifetimes = lifetimes;
        this.locks = locks;
        this.pauses = pauses;
    }

    /** The two directories of a rename, locked, and their indexes. */
    private record Parents(Inode src, Directory from, Inode dst, Directory to) {
    }

    /** {@code uid} and {@code gid}: the owner of a whiteout ({@link #WHITEOUT}), who asked for it. */
    void rename(Namespace ns, long srcDir, String srcName, long dstDir, String dstName, int flags, int uid, int gid) {
        if ((flags & ~(NOREPLACE | EXCHANGE | WHITEOUT)) != 0 || ((flags & EXCHANGE) != 0 && flags != EXCHANGE)) {
            throw new FsException(Errno.EINVAL, "rename flags " + flags);
        }
        Runnable later;
        try (NamespaceLocks.Held held = locks.hold()) {
            Parents p = lockParents(held, srcDir, dstDir);
            Directory.Entry src = p.from().lookup(srcName);
            Directory.Entry dst = p.to().lookup(dstName);
            if ((flags & EXCHANGE) != 0) {
                if (src == null || dst == null) {
                    throw new FsException(Errno.ENOENT, src == null ? srcName : dstName);
                }
            } else if (src == null) {
                throw new FsException(Errno.ENOENT, srcName);
            } else if (dst != null && (flags & NOREPLACE) != 0) {
                throw new FsException(Errno.EEXIST, dstName);
            }
            if (dst != null && dst.ino() == src.ino()) {
                return; // POSIX: both names refer to the same file; nothing happens
            }
            checkNoCycle(srcDir, src, dstDir, dst, (flags & EXCHANGE) != 0);
            pauses.reach("rename.checked", src.ino());
            held.inodes(src.ino(), dst == null ? 0 : dst.ino());
            checkChattr(srcDir, src, dstDir, dst, (flags & EXCHANGE) != 0);
            if ((flags & EXCHANGE) != 0) {
                exchange(p, srcDir, srcName, src, dstDir, dstName, dst);
                return;
            }
            later = move(ns, p, srcDir, srcName, src, dstDir, dstName, dst, (flags & WHITEOUT) != 0, uid, gid);
        }
        later.run();
    }

    /**
     * Locks the directories of a rename: one, or - across directories, under the rename lock -
     * both, an ancestor first, unrelated ones in ascending number.
     */
    private Parents lockParents(NamespaceLocks.Held held, long srcDir, long dstDir) {
        if (srcDir == dstDir) {
            Inode d = held.directory(srcDir, true);
            Directory index = directories.of(d);
            return new Parents(d, index, d, index);
        }
        held.renameLock();
        pauses.reach("rename.rename-locked", srcDir);
        boolean srcFirst = isAncestorOrSelf(srcDir, dstDir)
                || (!isAncestorOrSelf(dstDir, srcDir) && srcDir < dstDir);
        Inode first = held.directory(srcFirst ? srcDir : dstDir, true);
        Inode second = held.directory(srcFirst ? dstDir : srcDir, true);
        Inode src = srcFirst ? first : second;
        Inode dst = srcFirst ? second : first;
        return new Parents(src, directories.of(src), dst, directories.of(dst));
    }

    /**
     * EINVAL if a directory would move into its own subtree; ENOTEMPTY (EINVAL for an exchange)
     * if the target is a directory above the source, which is therefore not empty.
     */
    private void checkNoCycle(long srcDir, Directory.Entry src, long dstDir, Directory.Entry dst, boolean exchange) {
        if (srcDir == dstDir) {
            return;
        }
        if (isDirectory(src) && isAncestorOrSelf(src.ino(), dstDir)) {
            throw new FsException(Errno.EINVAL, "cannot move a directory into itself");
        }
        if (dst != null && isDirectory(dst) && isAncestorOrSelf(dst.ino(), srcDir)) {
            throw new FsException(exchange ? Errno.EINVAL : Errno.ENOTEMPTY,
                    "the target is a directory above the source");
        }
    }

    private boolean isDirectory(Directory.Entry e) {
        return FileMode.isDirectory(table.mode(e.ino()));
    }

    /** Whether {@code ancestor} is {@code dir} or one of its parents. */
    private boolean isAncestorOrSelf(long ancestor, long dir) {
        long cur = dir;
        for (int depth = 0; depth < 1_000_000; depth++) {
            if (cur == ancestor) {
                return true;
            }
            if (cur == InodeLayout.ROOT) {
                return false;
            }
            cur = table.parent(cur);
        }
        throw new FsException(Errno.ELOOP, "directory parent chain loops");
    }

    /**
     * Moves {@code src} to {@code dstName}, replacing {@code dst} if there is one; with
     * {@code whiteout} a new character device 0/0 of {@code uid}, {@code gid} takes the source
     * name in the same transaction. Returns what runs after the locks go.
     */
    private Runnable move(Namespace ns, Parents p, long srcDir, String srcName, Directory.Entry src, long dstDir,
                          String dstName, Directory.Entry dst, boolean whiteout, int uid, int gid) {
        boolean srcIsDir = isDirectory(src);
        if (dst != null) {
            ns.requireReplaceable(locks.handle(dst.ino()), srcIsDir, dstName);
        }
        Transaction tx = journal.begin();
        Timestamp now = Timestamp.now();
        Runnable later = () -> { };
        try {
            // First what may fail (no free inode), before any directory index changes in memory.
            long whiteoutIno = whiteout ? ns.newWhiteout(tx, srcDir, uid, gid, now) : 0;
            if (dst != null) {
                later = lifetimes.dropLink(tx, dst.ino(), now); // first: it may fail with nothing changed
                p.to().replace(tx, dstName, src.ino(), src.type());
            } else {
                p.to().add(tx, dstName, src.ino(), src.type(), t -> dirBlocks.grow(t, p.dst()));
            }
            if (whiteout) {
                p.from().replace(tx, srcName, whiteoutIno, DirentLayout.DT_CHR);
            } else {
                p.from().remove(tx, srcName);
                dirBlocks.shrinkIfEmpty(tx, p.src(), p.from());
            }
        } catch (RuntimeException e) {
            journal.abort(tx);
            throw e;
        }
        if (srcIsDir) {
            // Each subdirectory holds one link on its parent (its "..").
            long srcDelta = srcDir != dstDir ? -1 : 0;
            long dstDelta = (srcDir != dstDir ? 1 : 0) - (dst != null ? 1 : 0);
            if (srcDir == dstDir) {
                dstDelta += srcDelta;
            } else {
                table.setNlink(tx, srcDir, table.nlink(srcDir) + srcDelta);
                table.setParent(tx, src.ino(), dstDir);
            }
            if (dstDelta != 0) {
                table.setNlink(tx, dstDir, table.nlink(dstDir) + dstDelta);
            }
        }
        table.setCtime(tx, src.ino(), now);
        touchParents(tx, srcDir, dstDir, now);
        journal.commit(tx);
        return later;
    }

    /**
     * RENAME_EXCHANGE: each name ends up naming the other's inode, in one transaction. A
     * directory that changes parent updates its ".." (parent pointer) and both parents' link
     * counts.
     */
    private void exchange(Parents p, long srcDir, String srcName, Directory.Entry src, long dstDir, String dstName,
                          Directory.Entry dst) {
        boolean srcIsDir = isDirectory(src);
        boolean dstIsDir = isDirectory(dst);
        Transaction tx = journal.begin();
        Timestamp now = Timestamp.now();
        p.to().replace(tx, dstName, src.ino(), src.type());
        p.from().replace(tx, srcName, dst.ino(), dst.type());
        if (srcDir != dstDir && srcIsDir != dstIsDir) {
            // One directory moves each way when both are directories: the counts stay.
            long delta = srcIsDir ? 1 : -1;
            table.setNlink(tx, dstDir, table.nlink(dstDir) + delta);
            table.setNlink(tx, srcDir, table.nlink(srcDir) - delta);
        }
        if (srcDir != dstDir) {
            if (srcIsDir) {
                table.setParent(tx, src.ino(), dstDir);
            }
            if (dstIsDir) {
                table.setParent(tx, dst.ino(), srcDir);
            }
        }
        table.setCtime(tx, src.ino(), now);
        table.setCtime(tx, dst.ino(), now);
        touchParents(tx, srcDir, dstDir, now);
        journal.commit(tx);
    }

    /**
     * Immutable and append-only (Linux's may_delete and may_create): the source name goes from
     * {@code srcDir} and its inode moves; a replaced target goes from {@code dstDir}; an exchange
     * does both each way; a new name goes into {@code dstDir}. Caller holds both directories
     * and both inodes.
     */
    private void checkChattr(long srcDir, Directory.Entry src, long dstDir, Directory.Entry dst, boolean exchange) {
        chattr.requireEntriesRemovable(srcDir);
        chattr.changeable(locks.handle(src.ino()));
        if (dst != null) {
            chattr.requireEntriesRemovable(dstDir);
            chattr.changeable(locks.handle(dst.ino()));
        } else {
            chattr.requireEntriesAddable(dstDir);
        }
    }

    private void touchParents(Transaction tx, long srcDir, long dstDir, Timestamp now) {
        table.setMtime(tx, srcDir, now);
        table.setCtime(tx, srcDir, now);
        table.setMtime(tx, dstDir, now);
        table.setCtime(tx, dstDir, now);
    }
}
