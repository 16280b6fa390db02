package io.daxfs.fuse.kernel;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Timestamp;

import static io.daxfs.fuse.kernel.FuseAbi.*;

/**
 * Writes struct fuse_attr, fuse_attr_out and fuse_entry_out into a reply. Offsets are relative to
 * the start of the reply body.
 */
final class AttrCodec {
    /** st_blksize: the block size of the file system, the unit that I/O should use. */
    static final int BLKSIZE = 4096;

    private AttrCodec() {
    }

    /** struct fuse_attr at {@code at}. */
    static void putAttr(Reply r, long at, Attributes a) {
        r.putLong(at + ATTR_INO, a.ino());
        r.putLong(at + ATTR_FSIZE, a.size());
        r.putLong(at + ATTR_BLOCKS, a.blocks512());
        r.putLong(at + ATTR_ATIME, a.atimeSec());
        r.putLong(at + ATTR_MTIME, a.mtimeSec());
        r.putLong(at + ATTR_CTIME, a.ctimeSec());
        r.putInt(at + ATTR_ATIMENSEC, a.atimeNsec());
        r.putInt(at + ATTR_MTIMENSEC, a.mtimeNsec());
        r.putInt(at + ATTR_CTIMENSEC, a.ctimeNsec());
        r.putInt(at + ATTR_MODE, a.mode());
        r.putInt(at + ATTR_NLINK, (int) Math.min(a.nlink(), 0xffffffffL));
        r.putInt(at + ATTR_UID, a.uid());
        r.putInt(at + ATTR_GID, a.gid());
        // The kernel's new_encode_dev() form, which is what mknod handed us and glibc's dev_t
        // agrees with for majors < 4096 and minors < 2^20.
        r.putInt(at + ATTR_RDEV, (int) a.rdev());
        r.putInt(at + ATTR_BLKSIZE, BLKSIZE);
        r.putInt(at + ATTR_FLAGS, 0);
    }

    /** struct fuse_attr_out at the start of the body; returns its size. */
    static int putAttrOut(Reply r, Attributes a, long validNanos) {
        r.putLong(ATTR_OUT_VALID, validNanos / 1_000_000_000L);
        r.putInt(ATTR_OUT_VALID_NSEC, (int) (validNanos % 1_000_000_000L));
        r.putInt(ATTR_OUT_VALID_NSEC + 4, 0);
        putAttr(r, ATTR_OUT_ATTR, a);
        return ATTR_OUT_SIZE;
    }

    /**
     * struct fuse_statx_out at the start of the body, with the basic stats and the birth time;
     * returns its size. The device numbers come apart from the kernel's new_encode_dev() form
     * that mknod handed daxfs (see {@link #putAttr}).
     */
    static int putStatxOut(Reply r, Attributes a, Timestamp birth, long validNanos) {
        r.zero(0, STATX_OUT_SIZE);
        r.putLong(STATX_OUT_VALID, validNanos / 1_000_000_000L);
        r.putInt(STATX_OUT_VALID_NSEC, (int) (validNanos % 1_000_000_000L));
        int s = STATX_OUT_STAT;
        r.putInt(s + SX_MASK, STATX_BASIC_STATS | STATX_BTIME);
        r.putInt(s + SX_BLKSIZE, BLKSIZE);
        r.putInt(s + SX_NLINK, (int) Math.min(a.nlink(), 0xffffffffL));
        r.putInt(s + SX_UID, a.uid());
        r.putInt(s + SX_GID, a.gid());
        r.putShort(s + SX_MODE, (short) a.mode());
        r.putLong(s + SX_INO, a.ino());
        r.putLong(s + SX_SIZE, a.size());
        r.putLong(s + SX_BLOCKS, a.blocks512());
        putTime(r, s + SX_ATIME, a.atimeSec(), a.atimeNsec());
        putTime(r, s + SX_BTIME, birth.seconds(), birth.nanos());
        putTime(r, s + SX_CTIME, a.ctimeSec(), a.ctimeNsec());
        putTime(r, s + SX_MTIME, a.mtimeSec(), a.mtimeNsec());
        int dev = (int) a.rdev();
        r.putInt(s + SX_RDEV_MAJOR, (dev & 0xfff00) >>> 8);
        r.putInt(s + SX_RDEV_MINOR, (dev & 0xff) | ((dev >>> 12) & 0xfff00));
        return STATX_OUT_SIZE;
    }

    private static void putTime(Reply r, long at, long seconds, int nanos) {
        r.putLong(at, seconds);
        r.putInt(at + 8, nanos);
    }

    /** struct fuse_entry_out at {@code at} for an existing inode; returns its size. */
    static int putEntry(Reply r, long at, Attributes a, long entryNanos, long attrNanos) {
        r.putLong(at + ENTRY_NODEID, a.ino());
        // The kernel's root inode has generation 0 (it warns about any other in an entry of the root).
        r.putLong(at + ENTRY_GENERATION, a.ino() == ROOT_ID ? 0 : Integer.toUnsignedLong(a.generation()));
        putValid(r, at, entryNanos, attrNanos);
        putAttr(r, at + ENTRY_ATTR, a);
        return ENTRY_OUT_SIZE;
    }

    /**
     * A negative entry: nodeid 0 tells the kernel the name does not exist and may be remembered
     * as absent for {@code entryNanos}.
     */
    static int putNegativeEntry(Reply r, long at, long entryNanos) {
        r.zero(at, ENTRY_OUT_SIZE);
        putValid(r, at, entryNanos, 0);
        return ENTRY_OUT_SIZE;
    }

    private static void putValid(Reply r, long at, long entryNanos, long attrNanos) {
        r.putLong(at + ENTRY_VALID, entryNanos / 1_000_000_000L);
        r.putLong(at + ENTRY_ATTR_VALID, attrNanos / 1_000_000_000L);
        r.putInt(at + ENTRY_VALID_NSEC, (int) (entryNanos % 1_000_000_000L));
        r.putInt(at + ENTRY_ATTR_VALID_NSEC, (int) (attrNanos % 1_000_000_000L));
    }
}
