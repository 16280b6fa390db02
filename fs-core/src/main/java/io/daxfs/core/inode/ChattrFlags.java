package io.daxfs.core.inode;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

/**
 * The chattr(1) flags an inode carries (Linux's FS_IOC_GETFLAGS values, stored at those values
 * in the inode's flags word next to {@link InodeLayout#FLAG_ORPHAN}; docs/format.md), and the
 * rules Linux applies to immutable and append-only inodes, checked here so that every front end
 * gets them (the kernel leaves them to a FUSE server: it never sets S_IMMUTABLE or S_APPEND on a
 * FUSE inode).
 *
 * <p>The rules are Linux's (fs/namei.c may_delete and may_create, fs/attr.c notify_change,
 * fs/xattr.c xattr_permission, fs/open.c do_truncate and vfs_fallocate, ext4's write checks):
 * an immutable inode's data, size, names, mode, owner, times and extended attributes cannot
 * change, and an immutable directory gets no new entries and loses none; an append-only file
 * is written only at its end, never truncated, renamed, unlinked or linked, and its mode,
 * owner, explicit times and extended attributes stay; an append-only directory gets new
 * entries but loses none. Each check reads the flags word once, when the operation holds the
 * inode lock where it takes one (namespace changes: the directories and the inodes named;
 * data and attribute changes: when the facade is called).
 */
public final class ChattrFlags {
    // Other flags ('s', 'u', 'c', 'e', 'x', ...) are not stored: setting one is EOPNOTSUPP, as on XFS.
    public static final int SYNC = 0x8;          // 'S': every change is synchronous anyway
    public static final int IMMUTABLE = 0x10;    // 'i'
    public static final int APPEND = 0x20;       // 'a'
    public static final int NODUMP = 0x40;       // 'd': for dump(8); stored only
    public static final int NOATIME = 0x80;      // 'A': accesses leave atime alone
    public static final int DIRSYNC = 0x10000;   // 'D': directory changes are synchronous anyway
    /** Every flag daxfs stores. */
    public static final int STORED = SYNC | IMMUTABLE | APPEND | NODUMP | NOATIME | DIRSYNC;
    /** The flags only a caller with CAP_LINUX_IMMUTABLE may set or clear. */
    public static final int PRIVILEGED = IMMUTABLE | APPEND;

    private final InodeTable table;

    public ChattrFlags(InodeTable table) {
        this.table = table;
    }

    /** The chattr flags of {@code ino}. */
    public int of(long ino) {
        return table.flags(ino) & STORED;
    }

    /** Data, size and names of {@code in} may change (not immutable, not append-only); returns {@code in}. */
    public Inode changeable(Inode in) {
        requireNone(in.ino(), IMMUTABLE | APPEND, "is immutable or append-only");
        return in;
    }

    /** {@code in} is not immutable (fallocate without freeing, times set to now); returns {@code in}. */
    public Inode notImmutable(Inode in) {
        requireNone(in.ino(), IMMUTABLE, "is immutable");
        return in;
    }

    /** A write of {@code in} at {@code offset}: not immutable, and at or past the end if append-only. */
    public Inode writableAt(Inode in, long offset) {
        int f = of(in.ino());
        if ((f & IMMUTABLE) != 0 || (f & APPEND) != 0 && offset < table.size(in.ino())) {
            throw new FsException(Errno.EPERM, "inode " + in.ino() + ((f & IMMUTABLE) != 0 ? " is immutable"
                    : " is append-only: a write at " + offset + " is before its end"));
        }
        return in;
    }

    /** A name may be added to directory {@code dir} (not immutable). */
    public void requireEntriesAddable(long dir) {
        requireNone(dir, IMMUTABLE, "is an immutable directory");
    }

    /** A name may be removed from directory {@code dir} (neither immutable nor append-only). */
    public void requireEntriesRemovable(long dir) {
        requireNone(dir, IMMUTABLE | APPEND, "is an immutable or append-only directory");
    }

    /**
     * open(2) of a file with chattr flags {@code flags}: an immutable one only for reading, an
     * append-only one for writing only with O_APPEND; neither with O_TRUNC (fs/namei.c may_open
     * and inode_permission).
     */
    public static void checkOpen(int flags, boolean write, boolean append, boolean truncate) {
        if ((flags & IMMUTABLE) != 0 && (write || truncate)) {
            throw new FsException(Errno.EPERM, "the file is immutable");
        }
        if ((flags & APPEND) != 0 && (write && !append || truncate)) {
            throw new FsException(Errno.EPERM, "the file is append-only: open it with O_APPEND, without O_TRUNC");
        }
    }

    private void requireNone(long ino, int forbidden, String why) {
        if ((of(ino) & forbidden) != 0) {
            throw new FsException(Errno.EPERM, "inode " + ino + " " + why);
        }
    }
}
