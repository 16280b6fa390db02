package io.daxfs.core.namespace;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.alloc.InodeAllocator;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.dir.Directories;
import io.daxfs.core.dir.Directory;
import io.daxfs.core.dir.DirectoryBlocks;
import io.daxfs.core.dir.DirentLayout;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.AccessTimes;
import io.daxfs.core.inode.ExtentSlots;
import io.daxfs.core.inode.ChattrFlags;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.lifetime.InodeLifetimes;
import io.daxfs.core.space.Space;
import io.daxfs.devdax.PmemRegion;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Names: lookups, listings, and every change of a directory's entries (create, mknod, mkdir,
 * symlink, link, unlink, rmdir; renames are {@link Renames}). Each operation locks the
 * directories it reads or changes through {@link NamespaceLocks}, so operations in different
 * directories run in parallel, and builds one journal transaction that it commits before
 * letting go: when a call returns, its effect is durable.
 *
 * <p>A change that fails before its commit aborts its transaction: whatever could fail (a
 * full device, a damaged inode of the victim) is done before the directory's index is
 * changed in memory.
 */
public final class Namespace {
    public static final long ROOT = InodeLayout.ROOT;
    public static final int MAX_SYMLINK = 4095;

    private final PmemRegion region;
    private final Geometry geometry;
    private final Journal journal;
    private final Space space;
    private final InodeTable table;
    private final InodeAllocator inodeAllocator;
    private final Directories directories;
    private final DirectoryBlocks dirBlocks;
    private final InodeLifetimes lifetimes;
    private final AccessTimes accessTimes;
    private final io.daxfs.core.inode.InodeHandles handles;
    private final io.daxfs.core.concurrent.PausePoints pauses;
    private final NamespaceLocks locks;
    private final Renames renames;
    private final ChattrFlags chattr;

    public Namespace(PmemRegion region, Geometry geometry, Journal journal, Space space, InodeTable table,
                     InodeAllocator inodeAllocator, io.daxfs.core.inode.InodeHandles handles,
                     InodeLifetimes lifetimes, AccessTimes accessTimes,
                     io.daxfs.core.concurrent.Safeguards safeguards, io.daxfs.core.concurrent.PausePoints pauses) {
        this.region = region;
        this.geometry = geometry;
        this.journal = journal;
        this.space = space;
        this.table = table;
        this.inodeAllocator = inodeAllocator;
        this.directories = new Directories(region.readView(), ino -> new Directory.Verify(journal.checksums(), ino,
                geometry.inodeCount(), inodeAllocator::isUsed, table::mode), journal.errors());
        this.dirBlocks = new DirectoryBlocks(region, table, space);
        this.lifetimes = lifetimes;
        this.accessTimes = accessTimes;
        this.handles = handles;
        this.pauses = pauses;
        this.locks = new NamespaceLocks(handles, inodeAllocator, table, safeguards, pauses);
        this.chattr = new ChattrFlags(table);
        this.renames = new Renames(journal, table, directories, dirBlocks, lifetimes, locks, pauses, chattr);
        lifetimes.onFreed(directories::forget);
    }

    // ------------------------------------------------------------------ lookups

    public long lookup(long dir, String name) {
        Names.checkLength(name);
        try (NamespaceLocks.Held held = locks.hold()) {
            return entry(held.directory(dir, false), name).ino();
        }
    }

    /**
     * {@link #lookup} and the attributes of the result as one step: no unlink can free the
     * inode (and a new file reuse its number) in between, since both hold the directory.
     */
    public Attributes lookupAttributes(long dir, String name) {
        Names.checkLength(name);
        try (NamespaceLocks.Held held = locks.hold()) {
            if (name.equals("..")) {
                // Held shared, the directory cannot move to another parent, and its parent
                // cannot be removed while it has this entry.
                held.directory(dir, false);
                return table.attributes(table.parent(dir));
            }
            Directory.Entry e = entry(held.directory(dir, false), name);
            pauses.reach("lookup.found", e.ino());
            return table.attributes(e.ino());
        }
    }

    /**
     * The attributes of inode {@code ino} found by its number alone, as a file handle names it
     * (open_by_handle_at, NFS): ENOENT unless it is in use and has a name - a file whose last
     * name went is stale to a handle, as on ext4. Read under the inode's lock, shared, so no
     * unlink can free it (and a new file reuse the number) meanwhile.
     */
    public Attributes attributesByNumber(long ino) {
        Inode in = locks.handle(ino);
        java.util.concurrent.locks.Lock r = in.lock().readLock();
        r.lock();
        try {
            if (in.isRetired() || !inodeAllocator.isUsed(ino) || table.mode(ino) == 0 || table.nlink(ino) == 0) {
                throw new FsException(Errno.ENOENT, "inode " + ino + " has no name");
            }
            return table.attributes(ino);
        } finally {
            r.unlock();
        }
    }

    private Directory.Entry entry(Inode dir, String name) {
        Directory.Entry e = directories.of(dir).lookup(name);
        if (e == null) {
            throw new FsException(Errno.ENOENT, name);
        }
        return e;
    }

    /**
     * Resolves an absolute path ("/", "/a/b") to an inode number, one component at a time,
     * each looked up under its directory's lock (as a path walk on Linux: a rename elsewhere
     * may move the path between two components).
     */
    public long resolve(String path) {
        long ino = ROOT;
        int i = 0;
        int n = path.length();
        while (i < n) {
            while (i < n && path.charAt(i) == '/') {
                i++;
            }
            if (i >= n) {
                break;
            }
            int j = path.indexOf('/', i);
            if (j < 0) {
                j = n;
            }
            String part = path.substring(i, j);
            if (part.equals("..")) {
                try (NamespaceLocks.Held held = locks.hold()) {
                    held.directory(ino, false);
                    ino = table.parent(ino);
                }
            } else if (!part.equals(".")) {
                ino = lookup(ino, part);
            }
            i = j;
        }
        return ino;
    }

    /** The entries of a directory, "." and ".." first. A listing is an access (atime). */
    public List<DirEntry> readdir(long dir) {
        try (NamespaceLocks.Held held = locks.hold()) {
            Directory d = directories.of(held.directory(dir, false));
            List<DirEntry> out = new ArrayList<>(d.size() + 2);
            out.add(new DirEntry(".", dir, DirentLayout.DT_DIR));
            out.add(new DirEntry("..", table.parent(dir), DirentLayout.DT_DIR));
            for (var e : d.snapshot()) {
                out.add(new DirEntry(e.getKey(), e.getValue().ino(), e.getValue().type()));
            }
            // Under the directory's lock: it cannot be freed (and its inode reused) meanwhile.
            accessTimes.accessed(dir, true);
            return out;
        }
    }

    // ------------------------------------------------------------------ new inodes

    /**
     * Makes an inode of {@code mode} in {@code dir} under {@code name}, or with a null name an
     * unnamed one (O_TMPFILE): no entry, no link, on the orphan list from this transaction,
     * open and linkable; the directory's times do not change then. With {@code open}, the new
     * file has an open handle before anyone else can reach it (open with O_CREAT).
     */
    public long makeNode(long dir, String name, int mode, long rdev, int uid, int gid, byte[] symlinkTarget,
                         boolean open) {
        boolean unnamed = name == null;
        if (!unnamed) {
            Names.check(name);
        }
        try (NamespaceLocks.Held held = locks.hold()) {
            Inode parent = held.directory(dir, true);
            pauses.reach("namespace.directory-locked", dir);
            Directory d = directories.of(parent);
            if (!unnamed && d.lookup(name) != null) {
                throw new FsException(Errno.EEXIST, name);
            }
            chattr.requireEntriesAddable(dir); // an O_TMPFILE too: Linux checks the directory's write permission
            boolean isDir = FileMode.isDirectory(mode);
            if (isDir && table.nlink(dir) >= 0xFFFF_FFF0L) {
                throw new FsException(Errno.EMLINK, "too many subdirectories");
            }
            long ino = inodeAllocator.allocate();
            if (ino == 0) {
                throw new FsException(Errno.ENOSPC, "no free inodes");
            }
            handles.remove(ino);
            Transaction tx = journal.begin();
            tx.onAbort(() -> inodeAllocator.release(ino));
            Timestamp now = Timestamp.now();
            try {
                tx.updateBits(geometry.inodeBitmapOffset(), ino - 1, 1, true);
                // A setgid directory passes its group to new entries, and its setgid bit to new
                // subdirectories (System V semantics, as ext4; the kernel leaves it to us).
                int parentMode = table.mode(dir);
                boolean setgidParent = (parentMode & FileMode.S_ISGID) != 0;
                int effectiveMode = setgidParent && isDir ? mode | FileMode.S_ISGID : mode;
                int effectiveGid = setgidParent ? table.attributes(dir).gid() : gid;
                table.initialize(tx, ino, effectiveMode, uid, effectiveGid, rdev, dir, unnamed ? 0 : isDir ? 2 : 1, now);
                if (symlinkTarget != null) {
                    writeSymlinkTarget(tx, ino, symlinkTarget);
                }
                if (unnamed) {
                    lifetimes.orphan(tx, ino); // a crash before a link frees it at the next mount
                } else {
                    d.add(tx, name, ino, DirentLayout.typeOf(mode), t -> dirBlocks.grow(t, parent));
                }
            } catch (RuntimeException e) {
                journal.abort(tx);
                handles.remove(ino);
                throw e;
            }
            if (isDir) {
                table.setNlink(tx, dir, table.nlink(dir) + 1);
            }
            if (!unnamed) {
                table.setMtime(tx, dir, now);
                table.setCtime(tx, dir, now);
            }
            journal.commit(tx);
            if (unnamed) {
                lifetimes.openUnnamed(ino);
            } else if (open) {
                lifetimes.openNew(ino);
            }
            return ino;
        }
    }

    /** Creates a FIFO, socket, device node or regular file (a mode without a type is a regular file). */
    public long mknod(long dir, String name, int mode, long rdev, int uid, int gid) {
        int type = FileMode.type(mode);
        if (type == 0) {
            mode |= FileMode.S_IFREG;
        } else if (type == FileMode.S_IFDIR || type == FileMode.S_IFLNK) {
            throw new FsException(Errno.EINVAL, "mknod cannot make directories or symlinks");
        }
        return makeNode(dir, name, mode, rdev, uid, gid, null, false);
    }

    /** Creates a symbolic link to {@code target} (1 to {@link #MAX_SYMLINK} bytes of UTF-8). */
    public long symlink(long dir, String name, String target, int uid, int gid) {
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0) {
            throw new FsException(Errno.ENOENT, "empty symlink target");
        }
        if (t.length > MAX_SYMLINK) {
            throw new FsException(Errno.ENAMETOOLONG, "symlink target longer than " + MAX_SYMLINK + " bytes");
        }
        return makeNode(dir, name, FileMode.S_IFLNK | 0777, 0, uid, gid, t, false);
    }

    /** A symlink's target is its data: one freshly allocated block, written before commit. */
    private void writeSymlinkTarget(Transaction tx, long ino, byte[] target) {
        Extent e = space.allocateData(tx, -1, 1).getFirst();
        long off = Geometry.blockOffset(e.start());
        region.fill(off, Geometry.BLOCK_SIZE, (byte) 0);
        region.write(off, target, 0, target.length);
        region.flush(off, Geometry.BLOCK_SIZE);
        // The inode is fresh: initialize() zeroed its slots earlier in this transaction, and
        // this later record fills inline slot 0.
        long slot = table.offset(ino) + InodeLayout.INLINE_SLOTS;
        tx.putLong(slot, 0);
        tx.putLong(slot + 8, ExtentSlots.packPhysical(e.start(), 1));
        table.setSize(tx, ino, target.length);
        table.setBlocks(tx, ino, 1);
    }

    // ------------------------------------------------------------------ links

    /**
     * A new name {@code name} in {@code dir} for inode {@code ino} (not a directory). An inode
     * made without a name (O_TMPFILE) gets its first one here; an open file that lost its last
     * name never gets one back (ENOENT).
     */
    public long link(long ino, long dir, String name) {
        Names.check(name);
        locks.checkInUse(ino);
        if (FileMode.isDirectory(table.mode(ino))) {
            throw new FsException(Errno.EPERM, "hard links to directories are not allowed");
        }
        try (NamespaceLocks.Held held = locks.hold()) {
            Inode parent = held.directory(dir, true);
            Directory d = directories.of(parent);
            if (d.lookup(name) != null) {
                throw new FsException(Errno.EEXIST, name);
            }
            chattr.requireEntriesAddable(dir);
            chattr.changeable(held.inode(ino));
            long nlink = table.nlink(ino);
            boolean firstName = nlink == 0 && lifetimes.isLinkable(ino);
            if (nlink == 0 && !firstName) {
                // An open file that lost its last name has none (by number, never by path): it
                // is on the orphan list and its last release frees it, so it must not come back.
                throw new FsException(Errno.ENOENT, "inode " + ino + " has no name left");
            }
            if (nlink >= 0xFFFF_FFF0L) {
                throw new FsException(Errno.EMLINK, "too many links");
            }
            Transaction tx = journal.begin();
            try {
                d.add(tx, name, ino, DirentLayout.typeOf(table.mode(ino)), t -> dirBlocks.grow(t, parent));
            } catch (RuntimeException e) {
                journal.abort(tx);
                throw e;
            }
            Timestamp now = Timestamp.now();
            if (firstName) {
                lifetimes.adopt(tx, ino); // named now: a crash must keep it
            }
            table.setNlink(tx, ino, nlink + 1);
            table.setCtime(tx, ino, now);
            table.setMtime(tx, dir, now);
            table.setCtime(tx, dir, now);
            journal.commit(tx);
            if (firstName) {
                lifetimes.linked(ino);
            }
            return ino;
        }
    }

    public void unlink(long dir, String name) {
        removeEntry(dir, name, false, false);
    }

    public void rmdir(long dir, String name) {
        removeEntry(dir, name, true, false);
    }

    /**
     * Unlinks {@code name} in {@code dir} only if it names a regular file that is open, and
     * returns its number (the open handles keep the file: its last release frees it); returns
     * 0 and changes nothing otherwise. For a front end that must keep addressing such a file
     * by a name of its own after the unlink (libfuse's hidden names).
     */
    public long unlinkIfOpen(long dir, String name) {
        return removeEntry(dir, name, false, true);
    }

    private long removeEntry(long dir, String name, boolean wantDir, boolean onlyIfOpen) {
        Names.checkLength(name);
        if (name.equals(".")) {
            throw new FsException(Errno.EINVAL, "cannot remove '.'");
        }
        if (name.equals("..")) {
            throw new FsException(Errno.ENOTEMPTY, "cannot remove '..'");
        }
        Runnable later;
        long ino;
        try (NamespaceLocks.Held held = locks.hold()) {
            Inode parent = held.directory(dir, true);
            Directory d = directories.of(parent);
            Directory.Entry e = d.lookup(name);
            if (e == null) {
                throw new FsException(Errno.ENOENT, name);
            }
            ino = e.ino();
            Inode victim = held.inode(ino);
            if (onlyIfOpen && (!FileMode.isRegular(table.mode(ino)) || !lifetimes.isOpen(ino))) {
                return 0;
            }
            chattr.requireEntriesRemovable(dir); // before ENOTEMPTY and the like, as Linux's may_delete
            chattr.changeable(victim);
            boolean isDir = requireReplaceable(victim, wantDir, name);
            Transaction tx = journal.begin();
            Timestamp now = Timestamp.now();
            try {
                later = lifetimes.dropLink(tx, ino, now); // first: it may fail (EUCLEAN) with nothing changed
                d.remove(tx, name);
                dirBlocks.shrinkIfEmpty(tx, parent, d);
            } catch (RuntimeException ex) {
                journal.abort(tx);
                throw ex;
            }
            if (isDir) {
                table.setNlink(tx, dir, table.nlink(dir) - 1);
            }
            table.setMtime(tx, dir, now);
            table.setCtime(tx, dir, now);
            journal.commit(tx);
        }
        later.run();
        return ino;
    }

    /**
     * Checks that entry {@code name} (inode {@code in}, whose lock the caller holds) may go -
     * removed by unlink or rmdir, or replaced by a rename: it must be a directory exactly when
     * {@code wantDir} (ENOTDIR, EISDIR), and an empty one (ENOTEMPTY). Returns whether it is a
     * directory.
     */
    boolean requireReplaceable(Inode in, boolean wantDir, String name) {
        boolean isDir = FileMode.isDirectory(table.mode(in.ino()));
        if (wantDir && !isDir) {
            throw new FsException(Errno.ENOTDIR, name);
        }
        if (!wantDir && isDir) {
            throw new FsException(Errno.EISDIR, name);
        }
        if (isDir && !directories.of(in).isEmpty()) {
            throw new FsException(Errno.ENOTEMPTY, name);
        }
        return isDir;
    }

    /**
     * fsck's /lost+found: gives inode {@code ino}, which no entry names (its link count already
     * says one name, or 2 + subdirectories for a directory), the name {@code name} in
     * {@code dir}; a directory's parent becomes {@code dir}.
     */
    public void reconnect(long ino, long dir, String name) {
        Names.check(name);
        try (NamespaceLocks.Held held = locks.hold()) {
            Inode parent = held.directory(dir, true);
            Directory d = directories.of(parent);
            if (d.lookup(name) != null) {
                throw new FsException(Errno.EEXIST, name);
            }
            held.inode(ino);
            int mode = table.mode(ino);
            boolean isDir = FileMode.isDirectory(mode);
            Transaction tx = journal.begin();
            try {
                d.add(tx, name, ino, DirentLayout.typeOf(mode), t -> dirBlocks.grow(t, parent));
            } catch (RuntimeException e) {
                journal.abort(tx);
                throw e;
            }
            Timestamp now = Timestamp.now();
            if (isDir) {
                table.setParent(tx, ino, dir);
                table.setNlink(tx, dir, table.nlink(dir) + 1);
            }
            table.setCtime(tx, ino, now);
            table.setMtime(tx, dir, now);
            table.setCtime(tx, dir, now);
            journal.commit(tx);
        }
    }

    // ------------------------------------------------------------------ renames

    /**
     * renameat2(2): {@code flags} 0 replaces an existing target (a file by a file, an empty
     * directory by a directory) in the same transaction; {@link Renames#NOREPLACE} fails with
     * EEXIST if the target exists; {@link Renames#EXCHANGE} swaps two existing names. Other
     * flags: EINVAL.
     */
    public void rename(long srcDir, String srcName, long dstDir, String dstName, int flags) {
        Names.check(srcName);
        Names.check(dstName);
        if ((flags & Renames.WHITEOUT) != 0) {
            throw new FsException(Errno.EINVAL, "a whiteout needs its owner: renameWhiteout");
        }
        renames.rename(this, srcDir, srcName, dstDir, dstName, flags, 0, 0);
    }

    /**
     * {@link #rename} with RENAME_WHITEOUT ({@code flags} 0 or NOREPLACE besides): in the same
     * transaction the source name becomes a whiteout, a character device 0/0 with no
     * permission bits owned by {@code uid}, {@code gid} (overlayfs marks deleted lower files so).
     */
    public void renameWhiteout(long srcDir, String srcName, long dstDir, String dstName, int flags, int uid, int gid) {
        Names.check(srcName);
        Names.check(dstName);
        renames.rename(this, srcDir, srcName, dstDir, dstName, flags | Renames.WHITEOUT, uid, gid);
    }

    /**
     * A whiteout inode for a rename's {@code tx}: allocated and initialized with one link, the
     * entry for it added by the caller in the same transaction (its number goes back if the
     * transaction is aborted). Its group follows a set-group-ID {@code dir} as
     * {@link #makeNode}'s does. Caller holds {@code dir} exclusively.
     */
    long newWhiteout(Transaction tx, long dir, int uid, int gid, Timestamp now) {
        long ino = inodeAllocator.allocate();
        if (ino == 0) {
            throw new FsException(Errno.ENOSPC, "no free inodes");
        }
        handles.remove(ino);
        tx.onAbort(() -> inodeAllocator.release(ino));
        tx.updateBits(geometry.inodeBitmapOffset(), ino - 1, 1, true);
        int owningGid = (table.mode(dir) & FileMode.S_ISGID) != 0 ? table.attributes(dir).gid() : gid;
        table.initialize(tx, ino, FileMode.S_IFCHR, uid, owningGid, 0, dir, 1, now);
        return ino;
    }
}
