package io.daxfs.core;

import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.alloc.Extent;
import io.daxfs.core.alloc.InodeAllocator;
import io.daxfs.core.concurrent.BusyExtents;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.concurrent.RangeLock;
import io.daxfs.core.concurrent.Safeguards;
import io.daxfs.core.dir.Directory;
import io.daxfs.core.dir.DirentLayout;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeHandles;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.journal.Transaction;
import io.daxfs.core.xattr.XattrBlocks;
import io.daxfs.core.xattr.XattrStore;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A mounted daxfs: every file-system operation, by inode number.
 *
 * <p>Durability contract: when a namespace, attribute or size-changing call returns, its
 * effect is durable (journaled). Data written by {@link #write} is durable after
 * {@link #fsync}, and newly allocated blocks are made durable before the transaction that
 * maps them, so a crash never exposes stale bytes in a file.
 *
 * <p>Locks, in the order they are taken (never the reverse):
 * <ol>
 * <li>{@link #namespace}: shared for lookups and listings, exclusive for any change to a
 *     directory (create, unlink, rename...). Directory indexes are guarded by it.</li>
 * <li>an inode's lock ({@link Inode#lock()}): shared to read data, exclusive to write data,
 *     change the block map or size. Several inode locks are taken in ascending number.</li>
 * <li>the journal's commit lock (inside {@link Journal#commit}).</li>
 * <li>the allocators' monitors and {@link OpenFiles} (leaves).</li>
 * </ol>
 * The last {@link #release} of an unlinked file leaves {@link OpenFiles} before it takes the
 * namespace lock (docs/concurrency.md, "Open handles and unlink").
 */
public final class DaxFileSystem implements AutoCloseable {
    public static final long ROOT = 1;
    /** Largest file size: a whole number of blocks below 2^63. */
    public static final long MAX_FILE_SIZE = Long.MAX_VALUE & ~(Geometry.BLOCK_SIZE - 1L);
    public static final int MAX_SYMLINK = 4095;

    private final PmemRegion region;
    private final MemorySegment media;
    private final Superblock superblock;
    private final Geometry geometry;
    private final Journal journal;
    private final Space space;
    private final InodeAllocator inodeAllocator;
    private final InodeTable table;
    private final Orphans orphans;
    private final OpenFiles openFiles = new OpenFiles();
    /** libfuse's hidden names for unlinked open files (see {@link #unlinkKeepingAlias}). */
    private final UnlinkedAliases aliases = new UnlinkedAliases();
    private final InodeHandles handles;
    private final ReentrantReadWriteLock namespace = new ReentrantReadWriteLock(true);
    private final Safeguards safeguards = new Safeguards();
    private final PausePoints pauses = new PausePoints();
    private final FileData data;
    private final XattrStore xattrs;
    private final AccessTimes accessTimes;

    private DaxFileSystem(PmemRegion region, Superblock sb, AtimePolicy atime) {
        this.region = region;
        this.media = region.readView();
        this.superblock = sb;
        this.geometry = sb.geometry();
        this.journal = Journal.recover(region, geometry);
        this.space = new Space(region, geometry, BlockAllocator.load(media, geometry), journal);
        this.inodeAllocator = InodeAllocator.load(media, geometry);
        this.table = new InodeTable(region, geometry);
        this.handles = new InodeHandles(i -> new Inode(i, table.offset(i)));
        this.orphans = new Orphans(media, geometry, table);
        this.data = new FileData(region, table, journal, space, safeguards, pauses);
        this.accessTimes = new AccessTimes(table, atime);
        this.xattrs = new XattrStore(region, geometry, table, journal, new XattrBlocks() {
            @Override
            public List<Extent> allocate(Transaction tx, long goal, long blocks) {
                return space.allocateData(tx, goal, blocks);
            }

            @Override
            public void free(Transaction tx, Extent extent) {
                space.freeData(tx, extent);
            }
        }, in -> handles.peek(in.ino()) == in && inodeAllocator.isUsed(in.ino()));
    }

    /** Makes a new, empty file system on {@code region}. */
    public static Superblock format(PmemRegion region, FormatOptions options) {
        return Formatter.format(region, options);
    }

    /**
     * Mounts: validates the superblock, replays the journal, rebuilds the in-memory indexes
     * and finishes freeing any orphaned inode.
     *
     * @throws io.daxfs.core.format.CorruptFileSystemException if the device holds no valid daxfs
     */
    public static DaxFileSystem mount(PmemRegion region) {
        return mount(region, AtimePolicy.NEVER);
    }

    /**
     * Mounts with an atime policy. {@link #mount(PmemRegion)} uses {@link AtimePolicy#NEVER}: tools
     * and tests that read to check must not change what they check; the FUSE daemon passes the
     * mount options' policy (relatime unless told otherwise).
     */
    public static DaxFileSystem mount(PmemRegion region, AtimePolicy atime) {
        Superblock sb = Superblock.read(region.readView());
        DaxFileSystem fs = new DaxFileSystem(region, sb, atime);
        if (!FileMode.isDirectory(fs.table.mode(ROOT)) || !fs.inodeAllocator.isUsed(ROOT)) {
            throw new io.daxfs.core.format.CorruptFileSystemException("root directory inode is damaged");
        }
        fs.finishOrphans();
        return fs;
    }

    public Superblock superblock() {
        return superblock;
    }

    public Journal journal() {
        return journal;
    }

    /** Allocator view for statistics and tests. */
    public BlockAllocator blockAllocator() {
        return space.allocator();
    }

    /** The busy-extent list (statistics and tests). */
    public BusyExtents busyExtents() {
        return space.busy();
    }

    /** Switches for the concurrency mechanisms; tests turn one off to show its hazard. */
    public Safeguards safeguards() {
        return safeguards;
    }

    /** The in-memory handle of an inode: its locks and sequence (tests and diagnostics). */
    public Inode inode(long ino) {
        return handle(ino);
    }

    /** When accesses update atime. */
    public AtimePolicy atimePolicy() {
        return accessTimes.policy();
    }

    /** Changes when accesses update atime (a mount option; tests). */
    public void atimePolicy(AtimePolicy policy) {
        accessTimes.policy(policy);
    }

    /** Pause points where tests stop threads to force interleavings. */
    public PausePoints pausePoints() {
        return pauses;
    }

    // ------------------------------------------------------------------ lookups

    public long lookup(long dir, String name) {
        Lock l = namespace.readLock();
        l.lock();
        try {
            return lookupLocked(dir, name);
        } finally {
            l.unlock();
        }
    }

    /** Resolves an absolute path ("/", "/a/b") to an inode number. */
    public long resolve(String path) {
        Lock l = namespace.readLock();
        l.lock();
        try {
            long alias = aliases.lookup(path.substring(path.lastIndexOf('/') + 1));
            if (alias != 0) {
                return alias; // an unlinked open file, even if its directory is gone too
            }
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
                if (part.equals(".")) {
                    // stays
                } else if (part.equals("..")) {
                    requireDirectory(ino);
                    ino = table.parent(ino);
                } else {
                    ino = lookupLocked(ino, part);
                }
                i = j;
            }
            return ino;
        } finally {
            l.unlock();
        }
    }

    private long lookupLocked(long dir, String name) {
        checkNameLength(name);
        Directory d = directory(dir);
        Directory.Entry e = d.lookup(name);
        if (e == null) {
            long alias = aliases.lookup(name);
            if (alias != 0) {
                return alias;
            }
            throw new FsException(Errno.ENOENT, name);
        }
        return e.ino();
    }

    /**
     * {@link #lookup} and {@link #getattr} of the result as one step: no unlink can free the
     * inode (and a new file reuse its number) in between.
     */
    public Attributes lookupAttributes(long dir, String name) {
        Lock l = namespace.readLock();
        l.lock();
        try {
            return table.attributes(lookupLocked(dir, name));
        } finally {
            l.unlock();
        }
    }

    public Attributes getattr(long ino) {
        checkIno(ino);
        return table.attributes(ino);
    }

    /** The entries of a directory, "." and ".." first. A listing is an access (atime). */
    public List<DirEntry> readdir(long dir) {
        Lock l = namespace.readLock();
        l.lock();
        try {
            Directory d = directory(dir);
            List<DirEntry> out = new ArrayList<>(d.size() + 2);
            out.add(new DirEntry(".", dir, DirentLayout.DT_DIR));
            out.add(new DirEntry("..", table.parent(dir), DirentLayout.DT_DIR));
            for (var e : d.snapshot()) {
                out.add(new DirEntry(e.getKey(), e.getValue().ino(), e.getValue().type()));
            }
            // Under the namespace lock: the directory cannot be freed (and its inode reused) meanwhile.
            accessTimes.accessed(dir, true);
            return out;
        } finally {
            l.unlock();
        }
    }

    /** The target of a symbolic link. As on Linux, this is an access: it goes through {@link #read} (atime). */
    public String readlink(long ino) {
        checkIno(ino);
        if ((table.mode(ino) & FileMode.S_IFMT) != FileMode.S_IFLNK) {
            throw new FsException(Errno.EINVAL, "not a symbolic link");
        }
        int len = (int) table.size(ino);
        byte[] bytes = new byte[len];
        read(ino, 0, MemorySegment.ofArray(bytes), 0, len);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ namespace changes

    /** Creates a regular file; EEXIST if the name is taken. */
    public long create(long dir, String name, int mode, int uid, int gid) {
        return makeNode(dir, name, FileMode.S_IFREG | (mode & FileMode.PERMISSION_BITS), 0, uid, gid, null, false);
    }

    /**
     * Creates a regular file and registers an open handle of it ({@link #open(long)}) before any
     * other directory change can run, so the new file cannot be unlinked and freed in between:
     * {@code open(O_CREAT)}. The caller must {@link #release} it.
     */
    public long createOpen(long dir, String name, int mode, int uid, int gid) {
        return makeNode(dir, name, FileMode.S_IFREG | (mode & FileMode.PERMISSION_BITS), 0, uid, gid, null, true);
    }

    /**
     * open(O_TMPFILE): a regular file without a name, with one open handle, on the orphan list
     * from its first transaction (a crash frees it at the next mount). {@link #link} may give it
     * a name (linkat(2) of the descriptor); otherwise its last {@link #release} frees it. Its
     * group follows a set-group-ID {@code dir} as a named file's would.
     */
    public long createUnnamed(long dir, int mode, int uid, int gid) {
        return makeNode(dir, null, FileMode.S_IFREG | (mode & FileMode.PERMISSION_BITS), 0, uid, gid, null, true);
    }

    /** Creates a FIFO, socket, device node or regular file. */
    public long mknod(long dir, String name, int mode, long rdev, int uid, int gid) {
        int type = FileMode.type(mode);
        if (type == 0) {
            mode |= FileMode.S_IFREG;
        } else if (type == FileMode.S_IFDIR || type == FileMode.S_IFLNK) {
            throw new FsException(Errno.EINVAL, "mknod cannot make directories or symlinks");
        }
        return makeNode(dir, name, mode, rdev, uid, gid, null, false);
    }

    public long mkdir(long dir, String name, int mode, int uid, int gid) {
        return makeNode(dir, name, FileMode.S_IFDIR | (mode & FileMode.PERMISSION_BITS), 0, uid, gid, null, false);
    }

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

    /**
     * Makes an inode in {@code dir} under {@code name}, or with a null name an unnamed one
     * (O_TMPFILE): no entry, no link, on the orphan list from this transaction, open and
     * linkable ({@link #createUnnamed}); the directory's times do not change then.
     */
    private long makeNode(long dir, String name, int mode, long rdev, int uid, int gid, byte[] symlinkTarget,
                          boolean open) {
        boolean unnamed = name == null;
        if (!unnamed) {
            checkName(name);
        }
        Lock l = namespace.writeLock();
        l.lock();
        try {
            Inode parent = handle(dir);
            Directory d = directory(dir);
            if (!unnamed && d.lookup(name) != null) {
                throw new FsException(Errno.EEXIST, name);
            }
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
                    orphan(tx, ino); // a crash before a link frees it at the next mount
                } else {
                    d.add(tx, name, ino, DirentLayout.typeOf(mode), t -> growDirectory(t, parent));
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
                openFiles.openUnnamed(ino);
            } else if (open) {
                openFiles.open(ino);
            }
            return ino;
        } finally {
            l.unlock();
        }
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
        tx.putLong(slot + 8, io.daxfs.core.inode.ExtentSlots.packPhysical(e.start(), 1));
        table.setSize(tx, ino, target.length);
        table.setBlocks(tx, ino, 1);
    }

    public long link(long ino, long dir, String name) {
        checkName(name);
        Lock l = namespace.writeLock();
        l.lock();
        try {
            checkIno(ino);
            if (FileMode.isDirectory(table.mode(ino))) {
                throw new FsException(Errno.EPERM, "hard links to directories are not allowed");
            }
            Inode parent = handle(dir);
            Directory d = directory(dir);
            if (d.lookup(name) != null) {
                throw new FsException(Errno.EEXIST, name);
            }
            long nlink = table.nlink(ino);
            boolean firstName = nlink == 0 && openFiles.isLinkable(ino);
            if (nlink == 0 && !firstName) {
                // An open file that lost its last name has none (by number, never by path): it
                // is on the orphan list and its last release frees it, so it must not come back.
                // Only a file made without a name (O_TMPFILE) may get one.
                throw new FsException(Errno.ENOENT, "inode " + ino + " has no name left");
            }
            if (nlink >= 0xFFFF_FFF0L) {
                throw new FsException(Errno.EMLINK, "too many links");
            }
            Transaction tx = journal.begin();
            try {
                d.add(tx, name, ino, DirentLayout.typeOf(table.mode(ino)), t -> growDirectory(t, parent));
            } catch (RuntimeException e) {
                journal.abort(tx);
                throw e;
            }
            Timestamp now = Timestamp.now();
            if (firstName) {
                orphans.remove(tx, ino); // named now: a crash must keep it
                table.setFlags(tx, ino, table.flags(ino) & ~InodeLayout.FLAG_ORPHAN);
            }
            table.setNlink(tx, ino, nlink + 1);
            table.setCtime(tx, ino, now);
            table.setMtime(tx, dir, now);
            table.setCtime(tx, dir, now);
            journal.commit(tx);
            if (firstName) {
                openFiles.linked(ino);
            }
            return ino;
        } finally {
            l.unlock();
        }
    }

    public void unlink(long dir, String name) {
        removeEntry(dir, name, false);
    }

    public void rmdir(long dir, String name) {
        removeEntry(dir, name, true);
    }

    private void removeEntry(long dir, String name, boolean wantDir) {
        checkNameLength(name);
        if (name.equals(".")) {
            throw new FsException(Errno.EINVAL, "cannot remove '.'");
        }
        if (name.equals("..")) {
            throw new FsException(Errno.ENOTEMPTY, "cannot remove '..'");
        }
        Lock l = namespace.writeLock();
        l.lock();
        try {
            Directory d = directory(dir);
            Directory.Entry e = d.lookup(name);
            if (e == null) {
                if (!wantDir && aliases.remove(name)) {
                    return; // libfuse's final unlink of a hidden name: the file went at the first
                }
                throw new FsException(Errno.ENOENT, name);
            }
            removeEntryLocked(dir, d, e, name, wantDir);
        } finally {
            l.unlock();
        }
    }

    /**
     * Unlinks {@code name} in {@code dir} if it names a regular file that is open, and lets
     * {@code alias} (a last path component, see {@link UnlinkedAliases}) stand for the file
     * until it is freed; returns false (and
     * changes nothing) if the file is not open or not a regular file.
     *
     * <p>This is how daxfs answers libfuse 2's "hide" step: libfuse renames an open file that
     * is unlinked or renamed over to {@code .fuse_hidden…} and unlinks that name at the last
     * close. Done for real, the name would be visible in readdir, keep its directory from
     * being removed, and survive a crash. Instead the file is unlinked here, as on ext4: its
     * data lives on through the open handles (orphan list; freed at the last release, or at
     * the next mount after a crash), and the alias - memory only - lets libfuse's path-based
     * calls on it (fstat, fchmod, the final unlink) still find it.
     */
    public boolean unlinkKeepingAlias(long dir, String name, String alias) {
        checkNameLength(name);
        checkNameLength(alias);
        Lock l = namespace.writeLock();
        l.lock();
        try {
            Directory d = directory(dir);
            Directory.Entry e = d.lookup(name);
            if (e == null) {
                throw new FsException(Errno.ENOENT, name);
            }
            if (!FileMode.isRegular(table.mode(e.ino())) || !openFiles.isOpen(e.ino())) {
                return false;
            }
            removeEntryLocked(dir, d, e, name, false);
            aliases.add(alias, e.ino());
            return true;
        } finally {
            l.unlock();
        }
    }

    /**
     * Checks that the entry {@code name} (inode {@code ino}) may go - removed by unlink or rmdir,
     * or replaced by a rename: it must be a directory exactly when {@code wantDir} (ENOTDIR,
     * EISDIR), and an empty one (ENOTEMPTY). Returns whether it is a directory.
     */
    private boolean requireReplaceable(long ino, boolean wantDir, String name) {
        boolean isDir = FileMode.isDirectory(table.mode(ino));
        if (wantDir && !isDir) {
            throw new FsException(Errno.ENOTDIR, name);
        }
        if (!wantDir && isDir) {
            throw new FsException(Errno.EISDIR, name);
        }
        if (isDir && !directory(ino).isEmpty()) {
            throw new FsException(Errno.ENOTEMPTY, name);
        }
        return isDir;
    }

    /** Caller holds the namespace write lock; {@code e} is {@code name}'s entry in {@code d}. */
    private void removeEntryLocked(long dir, Directory d, Directory.Entry e, String name, boolean wantDir) {
        boolean isDir = requireReplaceable(e.ino(), wantDir, name);
        Transaction tx = journal.begin();
        d.remove(tx, name);
        shrinkIfEmpty(tx, dir, d);
        Timestamp now = Timestamp.now();
        if (isDir) {
            table.setNlink(tx, dir, table.nlink(dir) - 1);
        }
        table.setMtime(tx, dir, now);
        table.setCtime(tx, dir, now);
        Runnable later = dropLink(tx, e.ino(), now);
        journal.commit(tx);
        later.run();
    }

    /** renameat2(2) flag: fail with EEXIST instead of replacing the target. */
    public static final int RENAME_NOREPLACE = 1;
    /** renameat2(2) flag: swap the two names atomically; both must exist. */
    public static final int RENAME_EXCHANGE = 2;

    /**
     * Atomically renames; replaces an existing target (a file by a file, an empty directory
     * by a directory) in the same transaction.
     */
    public void rename(long srcDir, String srcName, long dstDir, String dstName) {
        rename(srcDir, srcName, dstDir, dstName, 0);
    }

    /**
     * renameat2(2): {@code flags} 0 is {@link #rename(long, String, long, String)};
     * {@link #RENAME_NOREPLACE} fails with EEXIST if the target exists; {@link #RENAME_EXCHANGE}
     * swaps two existing names (of any types) in one transaction. Other flags: EINVAL.
     */
    public void rename(long srcDir, String srcName, long dstDir, String dstName, int flags) {
        checkName(srcName);
        checkName(dstName);
        if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0 || flags == (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
            throw new FsException(Errno.EINVAL, "rename flags " + flags);
        }
        Lock l = namespace.writeLock();
        l.lock();
        try {
            if ((flags & RENAME_EXCHANGE) != 0) {
                exchangeLocked(srcDir, srcName, dstDir, dstName);
            } else {
                renameLocked(srcDir, srcName, dstDir, dstName, (flags & RENAME_NOREPLACE) != 0);
            }
        } finally {
            l.unlock();
        }
    }

    /** Caller holds the namespace lock exclusively. */
    private void renameLocked(long srcDir, String srcName, long dstDir, String dstName, boolean noReplace) {
        Directory from = directory(srcDir);
        Directory to = directory(dstDir);
        Directory.Entry src = from.lookup(srcName);
        if (src == null) {
            throw new FsException(Errno.ENOENT, srcName);
        }
        Directory.Entry dst = to.lookup(dstName);
        if (dst != null && noReplace) {
            throw new FsException(Errno.EEXIST, dstName);
        }
        if (dst != null && dst.ino() == src.ino()) {
            return; // POSIX: both names refer to the same file; nothing happens
        }
        boolean srcIsDir = FileMode.isDirectory(table.mode(src.ino()));
        if (srcIsDir && isAncestorOrSelf(src.ino(), dstDir)) {
            throw new FsException(Errno.EINVAL, "cannot move a directory into itself");
        }
        if (dst != null) {
            requireReplaceable(dst.ino(), srcIsDir, dstName);
        }
        Inode dstParent = handle(dstDir);
        Transaction tx = journal.begin();
        Timestamp now = Timestamp.now();
        Runnable later = () -> { };
        if (dst != null) {
            to.replace(tx, dstName, src.ino(), src.type());
            from.remove(tx, srcName);
            later = dropLink(tx, dst.ino(), now);
        } else {
            try {
                to.add(tx, dstName, src.ino(), src.type(), t -> growDirectory(t, dstParent));
            } catch (RuntimeException e) {
                journal.abort(tx);
                throw e;
            }
            from.remove(tx, srcName);
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
        shrinkIfEmpty(tx, srcDir, from);
        table.setCtime(tx, src.ino(), now);
        table.setMtime(tx, srcDir, now);
        table.setCtime(tx, srcDir, now);
        table.setMtime(tx, dstDir, now);
        table.setCtime(tx, dstDir, now);
        journal.commit(tx);
        later.run();
    }

    /**
     * RENAME_EXCHANGE: each name ends up naming the other's inode, in one transaction. A
     * directory that changes parent updates its ".." (parent pointer) and both parents' link
     * counts. Caller holds the namespace lock exclusively.
     */
    private void exchangeLocked(long srcDir, String srcName, long dstDir, String dstName) {
        Directory from = directory(srcDir);
        Directory to = directory(dstDir);
        Directory.Entry src = from.lookup(srcName);
        Directory.Entry dst = to.lookup(dstName);
        if (src == null || dst == null) {
            throw new FsException(Errno.ENOENT, src == null ? srcName : dstName);
        }
        if (src.ino() == dst.ino()) {
            return;
        }
        boolean srcIsDir = FileMode.isDirectory(table.mode(src.ino()));
        boolean dstIsDir = FileMode.isDirectory(table.mode(dst.ino()));
        if (srcDir != dstDir && ((srcIsDir && isAncestorOrSelf(src.ino(), dstDir))
                || (dstIsDir && isAncestorOrSelf(dst.ino(), srcDir)))) {
            throw new FsException(Errno.EINVAL, "cannot move a directory into itself");
        }
        Transaction tx = journal.begin();
        Timestamp now = Timestamp.now();
        to.replace(tx, dstName, src.ino(), src.type());
        from.replace(tx, srcName, dst.ino(), dst.type());
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
        table.setMtime(tx, srcDir, now);
        table.setCtime(tx, srcDir, now);
        table.setMtime(tx, dstDir, now);
        table.setCtime(tx, dstDir, now);
        journal.commit(tx);
    }

    /** Whether {@code ancestor} is {@code dir} or one of its parents. */
    private boolean isAncestorOrSelf(long ancestor, long dir) {
        long cur = dir;
        for (int depth = 0; depth < 1_000_000; depth++) {
            if (cur == ancestor) {
                return true;
            }
            if (cur == ROOT) {
                return false;
            }
            cur = table.parent(cur);
        }
        throw new FsException(Errno.ELOOP, "directory parent chain loops");
    }

    /**
     * Drops one link of {@code ino} in {@code tx}. At zero links a file that is still open goes
     * on the orphan list and its last {@link #release} frees it. Otherwise the inode is freed in
     * the same transaction when that fits, or goes on the orphan list and the returned action
     * (run after commit) frees it in several transactions.
     */
    private Runnable dropLink(Transaction tx, long ino, Timestamp now) {
        boolean isDir = FileMode.isDirectory(table.mode(ino));
        long nlink = isDir ? 0 : table.nlink(ino) - 1;
        if (nlink > 0) {
            table.setNlink(tx, ino, nlink);
            table.setCtime(tx, ino, now);
            return () -> { };
        }
        if (!isDir && openFiles.keepIfOpen(ino)) {
            // The open handles keep using the inode and its blocks; a crash before the last
            // release leaves it on the list, and the next mount frees it.
            table.setCtime(tx, ino, now);
            orphan(tx, ino);
            return () -> { };
        }
        Inode in = handle(ino);
        try (RangeLock.Range all = in.ranges().lockExclusive(0, Long.MAX_VALUE)) {
            ExtentMap map = in.extents(media);
            int estimate = 64 * (map.extentCount() + map.overflowBlocks().size()) + 64
                    + (int) Math.min(Integer.MAX_VALUE / 2, map.mappedBlocks() / 8)
                    + xattrs.beginFree(tx, in);
            if (journal.fits(tx, estimate)) {
                freeInodeIn(tx, in, map);
                return () -> { };
            }
            orphan(tx, ino);
            return () -> finishOrphan(ino);
        }
    }

    /** Puts {@code ino}, whose last name goes in {@code tx}, on the orphan list. */
    private void orphan(Transaction tx, long ino) {
        table.setNlink(tx, ino, 0);
        table.setFlags(tx, ino, table.flags(ino) | InodeLayout.FLAG_ORPHAN);
        orphans.add(tx, ino);
    }

    /** Frees every block and the inode itself in {@code tx}. Caller holds the inode exclusively. */
    private void freeInodeIn(Transaction tx, Inode in, ExtentMap map) {
        long ino = in.ino();
        in.sequence().begin();
        try {
            for (Extent e : map.unmap(tx, 0, Long.MAX_VALUE)) {
                space.freeData(tx, e);
            }
            map.releaseOverflowIfEmpty(tx, space);
        } finally {
            in.sequence().end();
        }
        xattrs.freeIn(tx, in);
        table.setMode(tx, ino, 0);
        table.setNlink(tx, ino, 0);
        table.setSize(tx, ino, 0);
        table.setBlocks(tx, ino, 0);
        table.setFlags(tx, ino, 0);
        tx.updateBits(geometry.inodeBitmapOffset(), ino - 1, 1, false);
        tx.afterCommit(() -> {
            aliases.forget(ino); // before the number can be allocated again
            handles.remove(ino);
            in.forget();
            inodeAllocator.release(ino, numberKeeper.test(ino));
        });
    }

    /** Frees an orphan's blocks in bounded transactions, then the inode. */
    private void finishOrphan(long ino) {
        Inode in = handle(ino);
        try (RangeLock.Range all = in.ranges().lockExclusive(0, Long.MAX_VALUE)) {
            ExtentMap map = in.extents(media);
            data.freeBlocksFrom(in, map, 0, Long.MAX_VALUE, null);
            Transaction tx = journal.begin();
            orphans.remove(tx, ino);
            freeInodeIn(tx, in, map);
            journal.commit(tx);
        }
    }

    private void finishOrphans() {
        for (long ino : orphans.snapshot()) {
            finishOrphan(ino);
        }
    }

    // ------------------------------------------------------------------ inode numbers still named elsewhere

    private volatile java.util.function.LongPredicate numberKeeper = ino -> false;

    /**
     * Who else may still name an inode number after its inode is freed: {@code keeper} is asked
     * as each inode is freed, and if it says yes the number is not handed to a new inode until
     * {@link #releaseNumber}. The FUSE kernel front end keeps the numbers the kernel has not
     * forgotten (a request for a number reused by another file would reach the wrong file).
     * The inode itself is free: on the media, in statfs, and for every request (ENOENT).
     */
    public void keepFreedNumbersWhile(java.util.function.LongPredicate keeper) {
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

    // ------------------------------------------------------------------ open handles

    /**
     * Registers an open handle of file {@code ino}: while it is registered, removing the file's
     * last name keeps the inode and its data (on the orphan list) until the last
     * {@link #release}. ENOENT if the inode is free, or has no name and no open handle left
     * (it is being freed); EISDIR for a directory (directories are freed at rmdir: the kernel
     * sends nothing but releasedir for a removed directory).
     */
    public void open(long ino) {
        Lock l = namespace.readLock();
        l.lock();
        try {
            openLocked(ino);
        } finally {
            l.unlock();
        }
    }

    /**
     * Resolves {@code path} and registers an open handle of the file it names, with no unlink
     * in between (which could otherwise free the number, or hand it to a new file); returns the
     * inode number.
     */
    public long open(String path) {
        Lock l = namespace.readLock();
        l.lock();
        try {
            long ino = resolve(path);
            openLocked(ino);
            return ino;
        } finally {
            l.unlock();
        }
    }

    /** Caller holds the namespace lock (shared suffices: it excludes every unlink). */
    private void openLocked(long ino) {
        checkIno(ino);
        if (FileMode.isDirectory(table.mode(ino))) {
            throw new FsException(Errno.EISDIR, "inode " + ino + " is a directory");
        }
        if (table.nlink(ino) == 0 && !openFiles.isOpen(ino)) {
            throw new FsException(Errno.ENOENT, "inode " + ino + " is being freed");
        }
        openFiles.open(ino);
    }

    /**
     * Drops one open handle of {@code ino} (from {@link #open} or {@link #createOpen}). The last
     * handle of a file whose last name is gone frees it, in bounded transactions, and takes it
     * off the orphan list.
     */
    public void release(long ino) {
        if (!openFiles.release(ino)) {
            return;
        }
        // The unlink that kept the inode holds the namespace lock until its transaction has
        // committed, so once we hold it the media says whether the inode is an orphan. No
        // new handle can appear: open refuses an inode with no name and no handle.
        Lock l = namespace.writeLock();
        l.lock();
        try {
            if (inodeAllocator.isUsed(ino) && table.nlink(ino) == 0
                    && (table.flags(ino) & InodeLayout.FLAG_ORPHAN) != 0 && !openFiles.isOpen(ino)) {
                finishOrphan(ino);
            }
        } finally {
            l.unlock();
        }
    }

    /** Open handles of {@code ino} (tests, diagnostics). */
    public int openHandles(long ino) {
        return openFiles.handles(ino);
    }

    /**
     * Gives an emptied directory's blocks back in {@code tx}, so that deleting everything
     * leaves the whole device free. The next entry grows it again.
     */
    private void shrinkIfEmpty(Transaction tx, long dir, Directory d) {
        if (!d.isEmpty()) {
            return;
        }
        Inode in = handle(dir);
        ExtentMap map = in.extents(media);
        if (map.extentCount() == 0) {
            return;
        }
        long freed = 0;
        in.sequence().begin();
        try {
            for (Extent e : map.unmap(tx, 0, Long.MAX_VALUE)) {
                space.freeData(tx, e);
                freed += e.length();
            }
            freed += map.releaseOverflowIfEmpty(tx, space);
        } finally {
            in.sequence().end();
        }
        d.forgetBlocks();
        table.setSize(tx, dir, 0);
        // A delta, not 0: the block count also holds the directory's xattr blocks.
        tx.addLong(table.offset(dir) + InodeLayout.BLOCKS, -freed);
    }

    /** Appends a zeroed, formatted block to a directory; returns its physical block. */
    private long growDirectory(Transaction tx, Inode dir) {
        ExtentMap map = dir.extents(media);
        FileExtent last = map.floor(Long.MAX_VALUE);
        long lblk = last == null ? 0 : last.logicalEnd();
        long goal = last == null ? -1 : last.physical() + last.length();
        try (ExtentMap.Reservation slots = map.reserveSlots(tx, 1, space, goal)) {
            long blk = space.allocateDirectoryBlock(tx, goal);
            map.map(slots, tx, lblk, 1, blk);
            table.setSize(tx, dir.ino(), (lblk + 1) * Geometry.BLOCK_SIZE);
            // A delta, not an absolute count: the count also holds the directory's xattr blocks,
            // and an overflow block the reservation added was counted by its own transaction.
            tx.addLong(table.offset(dir.ino()) + InodeLayout.BLOCKS, 1);
            return blk;
        }
    }

    // ------------------------------------------------------------------ attributes

    public void chmod(long ino, int mode) {
        checkIno(ino);
        Inode in = handle(ino);
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            Transaction tx = journal.begin();
            table.setMode(tx, ino, (table.mode(ino) & FileMode.S_IFMT) | (mode & FileMode.PERMISSION_BITS));
            table.setCtime(tx, ino, Timestamp.now());
            journal.commit(tx);
        } finally {
            w.unlock();
        }
    }

    /** Changes owner and/or group; -1 leaves one unchanged. */
    public void chown(long ino, int uid, int gid) {
        checkIno(ino);
        Inode in = handle(ino);
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            Attributes a = table.attributes(ino);
            Transaction tx = journal.begin();
            table.setOwner(tx, ino, uid == -1 ? a.uid() : uid, gid == -1 ? a.gid() : gid);
            table.setCtime(tx, ino, Timestamp.now());
            journal.commit(tx);
        } finally {
            w.unlock();
        }
    }

    /** Sets access and/or modification time; null leaves one unchanged. ctime becomes now. */
    public void setTimes(long ino, Timestamp atime, Timestamp mtime) {
        checkIno(ino);
        Inode in = handle(ino);
        Lock w = in.lock().writeLock();
        w.lock();
        try {
            Transaction tx = journal.begin();
            if (atime != null) {
                table.setAtime(tx, ino, atime);
            }
            if (mtime != null) {
                table.setMtime(tx, ino, mtime);
            }
            table.setCtime(tx, ino, Timestamp.now());
            journal.commit(tx);
        } finally {
            w.unlock();
        }
    }

    /**
     * What Linux does to a file that someone without CAP_FSETID writes or truncates, and to
     * any file that is chowned (file_remove_privs, chown_common): the set-user-ID bit goes; the
     * set-group-ID bit goes if group-execute is set (without it, the bit marks mandatory
     * locking); the security.capability attribute goes. Directories keep theirs. A file with
     * none of these costs two reads of its inode and allocates nothing. Returns whether the
     * mode changed (a cached copy of it is then stale).
     */
    public boolean dropPrivileges(long ino) {
        checkIno(ino);
        int mode = table.mode(ino);
        if (FileMode.isDirectory(mode)) {
            return false;
        }
        int kept = mode & ~FileMode.S_ISUID;
        if ((mode & (FileMode.S_ISGID | GROUP_EXECUTE)) == (FileMode.S_ISGID | GROUP_EXECUTE)) {
            kept &= ~FileMode.S_ISGID;
        }
        if (kept != mode) {
            chmod(ino, kept);
        }
        if (table.xattrBlock(ino) != 0) {
            try {
                removexattr(ino, SECURITY_CAPABILITY);
            } catch (FsException e) {
                if (e.errno() != Errno.ENODATA) {
                    throw e;
                }
            }
        }
        return kept != mode;
    }

    private static final int GROUP_EXECUTE = 0010;
    private static final String SECURITY_CAPABILITY = "security.capability";

    /** The inode's mode (type and permission bits). */
    public int mode(long ino) {
        checkIno(ino);
        return table.mode(ino);
    }

    // ------------------------------------------------------------------ extended attributes

    /** The value of extended attribute {@code name}; ENODATA if there is none. */
    public byte[] getxattr(long ino, String name) {
        return xattrs.get(handle(ino), name);
    }

    /**
     * Sets extended attribute {@code name}, atomically and durably. {@code flags}:
     * {@link io.daxfs.core.xattr.XattrNames#XATTR_CREATE}, {@link io.daxfs.core.xattr.XattrNames#XATTR_REPLACE}.
     */
    public void setxattr(long ino, String name, byte[] value, int flags) {
        xattrs.set(handle(ino), name, value, flags);
    }

    /**
     * {@link #setxattr}, and in the same transaction the permission bits become
     * {@code modeChange} applied to the current mode (setting a POSIX ACL changes the mode).
     */
    public void setxattr(long ino, String name, byte[] value, int flags, java.util.function.IntUnaryOperator modeChange) {
        xattrs.set(handle(ino), name, value, flags, modeChange);
    }

    /** The names of the extended attributes of {@code ino}, sorted. */
    public List<String> listxattr(long ino) {
        return xattrs.list(handle(ino));
    }

    /** Removes extended attribute {@code name}; ENODATA if there is none. */
    public void removexattr(long ino, String name) {
        xattrs.remove(handle(ino), name);
    }

    /** {@link #removexattr}, changing the permission bits in the same transaction. */
    public void removexattr(long ino, String name, java.util.function.IntUnaryOperator modeChange) {
        xattrs.remove(handle(ino), name, modeChange);
    }

    // ------------------------------------------------------------------ data

    /**
     * Reads up to {@code length} bytes at {@code offset} into {@code dst}; holes read as
     * zeros. Returns the number of bytes read (0 at or past end of file). Updates atime as the
     * {@link AtimePolicy} says (also at end of file, as Linux's read(2)).
     */
    public int read(long ino, long offset, MemorySegment dst, long dstOffset, int length) {
        if (offset < 0) {
            throw new FsException(Errno.EINVAL, "negative offset");
        }
        int n = data.read(handle(ino), offset, dst, dstOffset, length);
        accessTimes.accessed(ino, false);
        return n;
    }

    /** lseek(2) SEEK_DATA: the next offset at or after {@code offset} in allocated blocks; ENXIO if none. */
    public long seekData(long ino, long offset) {
        return data.seek(handle(ino), offset, true);
    }

    /** lseek(2) SEEK_HOLE: the next offset at or after {@code offset} in a hole (the end of file is one). */
    public long seekHole(long ino, long offset) {
        return data.seek(handle(ino), offset, false);
    }

    /** Writes {@code length} bytes of {@code src} at {@code offset}, allocating as needed. */
    public int write(long ino, long offset, MemorySegment src, long srcOffset, int length) {
        if (offset < 0) {
            throw new FsException(Errno.EINVAL, "negative offset");
        }
        if (length <= 0) {
            return 0;
        }
        long end = offset + length;
        if (end > MAX_FILE_SIZE || end < 0) {
            throw new FsException(Errno.EFBIG, "file would exceed the maximum size");
        }
        return data.write(handle(ino), offset, src, srcOffset, length);
    }

    /** Sets the file size; frees blocks past a smaller size, zeros past the old end on growth. */
    public void truncate(long ino, long newSize) {
        if (newSize < 0) {
            throw new FsException(Errno.EINVAL, "negative size");
        }
        if (newSize > MAX_FILE_SIZE) {
            throw new FsException(Errno.EFBIG, "size exceeds the maximum file size");
        }
        data.truncate(handle(ino), newSize);
    }

    /** fallocate(PUNCH_HOLE|KEEP_SIZE): frees whole blocks, zeroes partial ones; size unchanged. */
    public void punchHole(long ino, long offset, long length) {
        checkRange(offset, length);
        data.punchHole(handle(ino), offset, length);
    }

    /** fallocate(ZERO_RANGE[|KEEP_SIZE]). */
    public void zeroRange(long ino, long offset, long length, boolean keepSize) {
        checkRange(offset, length);
        data.zeroRange(handle(ino), offset, length, keepSize);
    }

    /** fallocate(0 or KEEP_SIZE): allocates zeroed blocks for every hole of the range. */
    public void fallocate(long ino, long offset, long length, boolean keepSize) {
        checkRange(offset, length);
        data.fallocate(handle(ino), offset, length, keepSize);
    }

    /**
     * References the device blocks behind a range until the lease is closed (a direct mapping,
     * a copy offload): see {@link Lease}.
     */
    public Lease lease(long ino, long offset, long length) {
        checkRange(offset, length);
        return data.lease(handle(ino), offset, length);
    }

    private static void checkRange(long offset, long length) {
        if (offset < 0 || length <= 0) {
            throw new FsException(Errno.EINVAL, "bad range " + offset + "+" + length);
        }
        if (offset + length > MAX_FILE_SIZE || offset + length < 0) {
            throw new FsException(Errno.EFBIG, "range exceeds the maximum file size");
        }
    }

    /** Makes the file's written data durable (its metadata always is). */
    public void fsync(long ino) {
        data.fsync(handle(ino));
    }

    public FsStats statfs() {
        // Busy extents belong to no file any more: they count as free, as in XFS.
        return new FsStats(Geometry.BLOCK_SIZE, geometry.dataBlocks(),
                space.allocator().freeBlocks() + space.busy().busyBlocks(),
                geometry.inodeCount(), inodeAllocator.freeInodes(), DirentLayout.MAX_NAME);
    }

    /** Everything is durable already; this only makes later calls fail fast. */
    @Override
    public void close() {
        region.fence();
    }

    // ------------------------------------------------------------------ helpers

    private Inode handle(long ino) {
        checkIno(ino);
        return handles.get(ino);
    }

    private void checkIno(long ino) {
        if (ino < 1 || ino > geometry.inodeCount() || !inodeAllocator.isUsed(ino)) {
            throw new FsException(Errno.ENOENT, "no inode " + ino);
        }
    }

    private void requireDirectory(long ino) {
        checkIno(ino);
        if (!FileMode.isDirectory(table.mode(ino))) {
            throw new FsException(Errno.ENOTDIR, "inode " + ino + " is not a directory");
        }
    }

    private Directory directory(long ino) {
        requireDirectory(ino);
        return handle(ino).directory(media);
    }

    private static void checkName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\0') >= 0) {
            throw new FsException(Errno.EINVAL, "invalid name '" + name + "'");
        }
        checkNameLength(name);
    }

    private static void checkNameLength(String name) {
        if (name.length() > DirentLayout.MAX_NAME / 4
                && name.getBytes(StandardCharsets.UTF_8).length > DirentLayout.MAX_NAME) {
            throw new FsException(Errno.ENAMETOOLONG, "name longer than " + DirentLayout.MAX_NAME + " bytes");
        }
    }
}
