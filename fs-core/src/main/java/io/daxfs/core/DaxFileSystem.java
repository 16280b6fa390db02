package io.daxfs.core;

import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.alloc.InodeAllocator;
import io.daxfs.core.attr.AttributeChanges;
import io.daxfs.core.base.AtimePolicy;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.concurrent.Safeguards;
import io.daxfs.core.data.FileData;
import io.daxfs.core.data.FileRanges;
import io.daxfs.core.data.ReadSink;
import io.daxfs.core.dir.DirentLayout;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.inode.AccessTimes;
import io.daxfs.core.inode.ChattrFlags;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeHandles;
import io.daxfs.core.inode.InodeTable;
import io.daxfs.core.inode.InodeVerifier;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.lease.Leases;
import io.daxfs.core.lifetime.InodeLifetimes;
import io.daxfs.core.namespace.Namespace;
import io.daxfs.core.space.Space;
import io.daxfs.core.xattr.XattrStore;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.IntUnaryOperator;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;

/**
 * A mounted daxfs: every file-system operation, by inode number. A thin facade: it checks
 * arguments and hands each call to the part that does the job - {@link Namespace} (names),
 * {@link InodeLifetimes} (open handles, orphans, freeing), {@link FileData} (file contents),
 * {@link AttributeChanges} and {@link XattrStore} (attributes) - over {@link Space}
 * (allocation and the one freeing path) and the {@link Journal}. docs/architecture.md walks
 * through it; {@link io.daxfs.core.concurrent.LockOrder} is the lock order.
 *
 * <p>Durability contract: when a namespace, attribute or size-changing call returns, its
 * effect is durable (journaled). Data written by {@link #write} is durable after
 * {@link #fsync}, and newly allocated blocks are made durable before the transaction that
 * maps them, so a crash never exposes stale bytes in a file.
 */
public final class DaxFileSystem implements AutoCloseable {
    public static final long ROOT = Namespace.ROOT;
    /** Largest file size: a whole number of blocks below 2^63. */
    public static final long MAX_FILE_SIZE = FileRanges.MAX_FILE_SIZE;
    public static final int MAX_SYMLINK = Namespace.MAX_SYMLINK;
    public static final int RENAME_NOREPLACE = 1; // renameat2(2): EEXIST instead of replacing the target
    public static final int RENAME_EXCHANGE = 2; // renameat2(2): swap the two names atomically; both must exist

    private final PmemRegion region;
    private final Superblock superblock;
    private final Geometry geometry;
    private final Journal journal;
    private final Space space;
    private final FileSystemControl control;
    private final InodeAllocator inodeAllocator;
    private final InodeTable table;
    private final InodeHandles handles;
    private final Safeguards safeguards = new Safeguards();
    private final PausePoints pauses = new PausePoints();
    private final FileData data;
    private final XattrStore xattrs;
    private final AccessTimes accessTimes;
    private final AttributeChanges attributes;
    private final ChattrFlags chattr;
    private final InodeLifetimes lifetimes;
    private final Namespace namespace;
    private final List<String> notes;
    private final Leases leases;

    /** A mount's parts, wired; the checks before and after are {@link Mounting}'s. */
    DaxFileSystem(PmemRegion region, Superblock sb, MountSettings settings, Journal journal, List<String> notes) {
        MemorySegment media = region.readView();
        this.region = region;
        this.superblock = sb;
        this.geometry = sb.geometry();
        this.journal = journal;
        this.notes = List.copyOf(notes);
        this.space = new Space(region, geometry, BlockAllocator.load(media, geometry), journal);
        this.control = new FileSystemControl(journal.errors(), space, geometry);
        this.inodeAllocator = InodeAllocator.load(media, geometry);
        this.table = new InodeTable(region, geometry, journal.errors());
        InodeVerifier verifier = new InodeVerifier(media, journal, safeguards);
        this.handles = new InodeHandles(i -> new Inode(i, table.offset(i), verifier::extents), verifier::verify);
        this.data = new FileData(region, table, journal, space, safeguards, pauses);
        this.accessTimes = new AccessTimes(table, settings.atime());
        this.xattrs = new XattrStore(region, geometry, table, journal, space,
                in -> handles.peek(in.ino()) == in && inodeAllocator.isUsed(in.ino()));
        this.attributes = new AttributeChanges(table, journal, xattrs);
        this.chattr = new ChattrFlags(table);
        this.lifetimes = new InodeLifetimes(media, geometry, journal, space, table, inodeAllocator, handles, data,
                xattrs);
        this.namespace = new Namespace(region, geometry, journal, space, table, inodeAllocator, handles, lifetimes,
                accessTimes, safeguards, pauses);
        this.leases = new Leases(data, table, space.busy(), region, this::handle);
    }

    /** Makes a new, empty file system on {@code region}. */
    public static Superblock format(PmemRegion region, FormatOptions options) {
        return Formatter.format(region, options);
    }

    /** {@link #mount(PmemRegion, MountSettings)} with the defaults: read-write, atime never updated (tools, tests). */
    public static DaxFileSystem mount(PmemRegion region) {
        return mount(region, MountSettings.defaults());
    }

    /**
     * Mounts after the checks {@link Mounting} lists (docs/reliability.md); replays the journal,
     * rebuilds the in-memory indexes, frees orphaned inodes. A read-only mount never writes and
     * mounts despite damage, for rescue ({@link #mountNotes}).
     *
     * @throws CorruptFileSystemException (one line: the first finding) if the device holds no sound daxfs
     */
    public static DaxFileSystem mount(PmemRegion region, MountSettings settings) {
        return Mounting.mount(region, settings);
    }

    /** What a read-only mount found and went past, one line each (empty on a sound file system). */
    public List<String> mountNotes() {
        return notes;
    }

    void finishOrphans() {
        lifetimes.finishOrphans();
    }

    /** fsck's /lost+found ({@link Fsck}): names {@code ino}, which nothing names, {@code name} in {@code dir}. */
    void reconnect(long ino, long dir, String name) {
        namespace.reconnect(ino, dir, name);
    }

    public Superblock superblock() {
        return superblock;
    }

    /** When accesses update atime. */
    public AtimePolicy atimePolicy() {
        return accessTimes.policy();
    }

    /** Changes when accesses update atime (a mount option; tests). */
    public void atimePolicy(AtimePolicy policy) {
        accessTimes.policy(policy);
    }

    /** The internal parts, for tests and diagnostics only: never for serving requests. */
    public Internals internals() {
        return new Internals(journal, space, safeguards, pauses, handles, lifetimes, inodeAllocator);
    }

    // ------------------------------------------------------------------ names

    public long lookup(long dir, String name) {
        return namespace.lookup(dir, name);
    }

    /** Resolves an absolute path ("/", "/a/b") to an inode number. */
    public long resolve(String path) {
        return namespace.resolve(path);
    }

    /**
     * {@link #lookup} and {@link #getattr} of the result as one step: no unlink can free the
     * inode (and a new file reuse its number) in between. ".." is the directory's parent.
     */
    public Attributes lookupAttributes(long dir, String name) {
        return namespace.lookupAttributes(dir, name);
    }

    /** By number alone (a file handle): ENOENT if free or without a name; the caller checks the generation. */
    public Attributes attributesByNumber(long ino) {
        return namespace.attributesByNumber(ino);
    }

    /** The entries of a directory, "." and ".." first. A listing is an access (atime). */
    public List<DirEntry> readdir(long dir) {
        return namespace.readdir(dir);
    }

    /** Creates a regular file; EEXIST if the name is taken. */
    public long create(long dir, String name, int mode, int uid, int gid) {
        return namespace.makeNode(dir, name, FileMode.S_IFREG | (mode & FileMode.PERMISSION_BITS), 0, uid, gid,
                null, false);
    }

    /**
     * Creates a regular file with an open handle ({@link #open(long)}) registered before any
     * other change can reach it (open with O_CREAT). The caller must {@link #release} it.
     */
    public long createOpen(long dir, String name, int mode, int uid, int gid) {
        return namespace.makeNode(dir, name, FileMode.S_IFREG | (mode & FileMode.PERMISSION_BITS), 0, uid, gid,
                null, true);
    }

    /**
     * open(O_TMPFILE): a regular file without a name, with one open handle, on the orphan list
     * from its first transaction (a crash frees it at the next mount). {@link #link} may give it
     * a name; otherwise its last {@link #release} frees it. Its group follows a set-group-ID
     * {@code dir} as a named file's would.
     */
    public long createUnnamed(long dir, int mode, int uid, int gid) {
        return namespace.makeNode(dir, null, FileMode.S_IFREG | (mode & FileMode.PERMISSION_BITS), 0, uid, gid,
                null, true);
    }

    /** Creates a FIFO, socket, device node or regular file. */
    public long mknod(long dir, String name, int mode, long rdev, int uid, int gid) {
        return namespace.mknod(dir, name, mode, rdev, uid, gid);
    }

    public long mkdir(long dir, String name, int mode, int uid, int gid) {
        return namespace.makeNode(dir, name, FileMode.S_IFDIR | (mode & FileMode.PERMISSION_BITS), 0, uid, gid,
                null, false);
    }

    public long symlink(long dir, String name, String target, int uid, int gid) {
        return namespace.symlink(dir, name, target, uid, gid);
    }

    /** The target of a symbolic link. As on Linux, this is an access: it goes through {@link #read} (atime). */
    public String readlink(long ino) {
        checkIno(ino);
        if (FileMode.type(table.mode(ino)) != FileMode.S_IFLNK) {
            throw new FsException(Errno.EINVAL, "not a symbolic link");
        }
        byte[] bytes = new byte[(int) table.size(ino)];
        read(ino, 0, MemorySegment.ofArray(bytes), 0, bytes.length);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    public long link(long ino, long dir, String name) {
        return namespace.link(ino, dir, name);
    }

    public void unlink(long dir, String name) {
        namespace.unlink(dir, name);
    }

    public void rmdir(long dir, String name) {
        namespace.rmdir(dir, name);
    }

    /**
     * Unlinks {@code name} only if it names an open regular file, and returns its number (its
     * open handles keep it until the last release); 0, with nothing changed, otherwise.
     */
    public long unlinkIfOpen(long dir, String name) {
        return namespace.unlinkIfOpen(dir, name);
    }

    /** Atomically renames, replacing an existing target (a file by a file, an empty directory by a directory). */
    public void rename(long srcDir, String srcName, long dstDir, String dstName) {
        rename(srcDir, srcName, dstDir, dstName, 0);
    }

    /** renameat2(2) with {@link #RENAME_NOREPLACE} or {@link #RENAME_EXCHANGE}; other flags: EINVAL. */
    public void rename(long srcDir, String srcName, long dstDir, String dstName, int flags) {
        namespace.rename(srcDir, srcName, dstDir, dstName, flags);
    }

    /** RENAME_WHITEOUT too: the source name becomes a character device 0/0 of {@code uid}, {@code gid}. */
    public void renameWhiteout(long srcDir, String srcName, long dstDir, String dstName, int flags, int uid, int gid) {
        namespace.renameWhiteout(srcDir, srcName, dstDir, dstName, flags, uid, gid);
    }

    // ------------------------------------------------------------------ open handles and lifetimes

    /**
     * Registers an open handle of {@code ino} (a file or directory): while it is registered,
     * removing its last name keeps the inode until the last {@link #release}. ENOENT if free.
     */
    public void open(long ino) {
        lifetimes.open(handle(ino));
    }

    /** Resolves {@code path} and registers an open handle of the file it names; returns its number. */
    public long open(String path) {
        long ino = resolve(path);
        open(ino);
        return ino;
    }

    /** Drops one open handle; the last one of a file whose last name is gone frees it. */
    public void release(long ino) {
        lifetimes.release(ino);
    }

    /** Runs {@code listener} with the number of every inode freed, before the number can be reused. */
    public void onInodeFreed(LongConsumer listener) {
        lifetimes.onFreed(listener);
    }

    /**
     * Numbers of freed inodes that {@code keeper} says are still named elsewhere are not reused
     * until {@link #releaseNumber} (the kernel front end: numbers the kernel has not forgotten).
     */
    public void keepFreedNumbersWhile(LongPredicate keeper) {
        lifetimes.keepFreedNumbersWhile(keeper);
    }

    /** A number kept by the keeper may be reused now. */
    public void releaseNumber(long ino) {
        lifetimes.releaseNumber(ino);
    }

    /** Inode numbers held for the keeper. */
    public int inodeNumbersHeld() {
        return lifetimes.inodeNumbersHeld();
    }

    // ------------------------------------------------------------------ attributes

    public Attributes getattr(long ino) {
        handle(ino); // the inode is verified when its handle is first made
        return table.attributes(ino);
    }

    /** When the inode was made (statx's birth time, STATX_BTIME). */
    public Timestamp birthTime(long ino) {
        checkIno(ino);
        return table.birthTime(ino);
    }

    /** The inode's mode (type and permission bits). */
    public int mode(long ino) {
        handle(ino);
        return table.mode(ino);
    }

    public void chmod(long ino, int mode) {
        attributes.chmod(chattr.changeable(handle(ino)), mode);
    }

    /** Changes owner and/or group; -1 leaves one unchanged. */
    public void chown(long ino, int uid, int gid) {
        attributes.chown(chattr.changeable(handle(ino)), uid, gid);
    }

    /** Sets access and/or modification time (null: unchanged; {@code toNow}: utimes(NULL)); ctime becomes now. */
    public void setTimes(long ino, Timestamp atime, Timestamp mtime, boolean toNow) {
        Inode in = handle(ino);
        attributes.setTimes(toNow ? chattr.notImmutable(in) : chattr.changeable(in), atime, mtime);
    }

    /** The chattr flags ({@link ChattrFlags}: Linux's FS_IOC_GETFLAGS bits). */
    public int chattrFlags(long ino) {
        return chattr.of(handle(ino).ino());
    }

    /** chattr by {@code callerUid}: {@link AttributeChanges#setChattrFlags}. */
    public void setChattrFlags(long ino, int flags, int callerUid) {
        attributes.setChattrFlags(handle(ino), flags, callerUid);
    }

    /** What Linux does to a file written, truncated or chowned: {@link AttributeChanges#dropPrivileges}. */
    public boolean dropPrivileges(long ino, boolean sgidWithoutExec) {
        return attributes.dropPrivileges(handle(ino), sgidWithoutExec);
    }

    /** The value of extended attribute {@code name}; ENODATA if there is none. */
    public byte[] getxattr(long ino, String name) {
        return xattrs.get(handle(ino), name);
    }

    /** Sets extended attribute {@code name}, atomically and durably; {@code flags}: XATTR_CREATE, XATTR_REPLACE. */
    public void setxattr(long ino, String name, byte[] value, int flags) {
        xattrs.set(chattr.changeable(handle(ino)), name, value, flags);
    }

    /** {@link #setxattr}, and in the same transaction the mode becomes {@code modeChange} of it (POSIX ACLs). */
    public void setxattr(long ino, String name, byte[] value, int flags, IntUnaryOperator modeChange) {
        xattrs.set(chattr.changeable(handle(ino)), name, value, flags, modeChange);
    }

    /** The names of the extended attributes of {@code ino}, sorted. */
    public List<String> listxattr(long ino) {
        return xattrs.list(handle(ino));
    }

    /** Removes extended attribute {@code name}; ENODATA if there is none. */
    public void removexattr(long ino, String name) {
        xattrs.remove(chattr.changeable(handle(ino)), name);
    }

    /** {@link #removexattr}, changing the permission bits in the same transaction. */
    public void removexattr(long ino, String name, IntUnaryOperator modeChange) {
        xattrs.remove(chattr.changeable(handle(ino)), name, modeChange);
    }

    // ------------------------------------------------------------------ data

    /**
     * Reads up to {@code length} bytes at {@code offset} into {@code dst}; holes read as
     * zeros. Returns the number of bytes read (0 at or past end of file). Updates atime as the
     * {@link AtimePolicy} says (also at end of file, as Linux's read(2)).
     */
    public int read(long ino, long offset, MemorySegment dst, long dstOffset, int length) {
        FileRanges.checkOffset(offset);
        int n = data.read(handle(ino), offset, dst, dstOffset, length);
        accessTimes.accessed(ino, false);
        return n;
    }

    /** {@link #read} by reference into {@code sink} ({@link ReadSink}); -1: it refused, read by copy instead. */
    public int read(long ino, long offset, int length, ReadSink sink) {
        FileRanges.checkOffset(offset);
        int n = data.read(handle(ino), offset, length, sink);
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
        return data.write(chattr.writableAt(handle(ino), offset), offset, src, srcOffset, length);
    }

    /** Sets the file size; frees blocks past a smaller size, zeros past the old end on growth. */
    public void truncate(long ino, long newSize) {
        data.truncate(chattr.changeable(handle(ino)), newSize);
    }

    /** fallocate(PUNCH_HOLE|KEEP_SIZE): frees whole blocks, zeroes partial ones; size unchanged. */
    public void punchHole(long ino, long offset, long length) {
        data.punchHole(chattr.changeable(handle(ino)), offset, length);
    }

    /** fallocate(ZERO_RANGE[|KEEP_SIZE]). */
    public void zeroRange(long ino, long offset, long length, boolean keepSize) {
        data.zeroRange(chattr.changeable(handle(ino)), offset, length, keepSize);
    }

    /** fallocate(0 or KEEP_SIZE): allocates zeroed blocks for every hole of the range. */
    public void fallocate(long ino, long offset, long length, boolean keepSize) {
        data.fallocate(chattr.notImmutable(handle(ino)), offset, length, keepSize);
    }

    /** Leases: references to the device blocks of file ranges that other processes map (docs/leases.md). */
    public Leases leases() {
        return leases;
    }

    /** Makes the file's written data durable (its metadata always is). */
    public void fsync(long ino) {
        data.fsync(handle(ino));
    }

    /** Shutdown and trim: what acts on the mounted file system as a whole. */
    public FileSystemControl control() {
        return control;
    }

    public FsStats statfs() {
        return new FsStats(Geometry.BLOCK_SIZE, geometry.dataBlocks(), space.availableBlocks(),
                geometry.inodeCount(), inodeAllocator.freeInodes(), DirentLayout.MAX_NAME);
    }

    /** Everything is durable already: this releases what free blocks kept (not once shut down), and orders the last stores. */
    @Override
    public void close() {
        if (!region.isPrivate() && !control.isShutDown()) {
            space.close();
        }
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
}
