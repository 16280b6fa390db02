package io.daxfs.core.inode;

/**
 * Byte offsets of the fields of a 256-byte on-media inode (little endian).
 *
 * <pre>
 *   0 mode u32        4 nlink u32       8 uid u32        12 gid u32
 *  16 size u64
 *  24 atime s64      32 atime ns u32   36 flags u32 (bit 0 orphan; the chattr bits of {@link ChattrFlags})
 *  40 mtime s64      48 mtime ns u32   52 generation u32
 *  56 ctime s64      64 ctime ns u32   68 CRC32C u32 (format 2; {@link io.daxfs.core.format.Checksums})
 *  72 btime s64      80 btime ns u32   84 reserved u32
 *  88 rdev u64       96 blocks u64 (4 KiB blocks owned: data, extent-overflow, xattr)
 * 104 first extent-overflow block u64 (0 = none)
 * 112 xattr block u64 (0 = none)
 * 120 parent inode u64 (directories)
 * 128 next orphan u64 (0 = end of list)
 * 136 reserved u64
 * 144 7 inline extent slots of 16 bytes
 * </pre>
 *
 * An inode is free when its bit in the inode bitmap is clear; a freed inode also has mode 0.
 * The CRC covers every field but size, atime, mtime and ctime, which are stored in place
 * outside the journal ({@link InodeTable#touchDirect}, {@code Journal.storeMax}).
 */
public final class InodeLayout {
    /** The root directory's inode number. */
    public static final long ROOT = 1;
    public static final int MODE = 0;
    public static final int NLINK = 4;
    public static final int UID = 8;
    public static final int GID = 12;
    public static final int SIZE = 16;
    public static final int ATIME = 24;
    public static final int ATIME_NS = 32;
    public static final int FLAGS = 36;
    public static final int MTIME = 40;
    public static final int MTIME_NS = 48;
    public static final int GENERATION = 52;
    public static final int CTIME = 56;
    public static final int CTIME_NS = 64;
    public static final int CRC = io.daxfs.core.format.Checksums.INODE_CRC;
    public static final int BTIME = 72;
    public static final int BTIME_NS = 80;
    public static final int RDEV = 88;
    public static final int BLOCKS = 96;
    public static final int OVERFLOW = 104;
    public static final int XATTR = 112;
    public static final int PARENT = 120;
    public static final int NEXT_ORPHAN = 128;
    public static final int INLINE_SLOTS = 144;
    public static final int INLINE_SLOT_COUNT = 7;

    /** Flag: the inode is on the orphan list (unlinked, space being reclaimed). */
    public static final int FLAG_ORPHAN = 1;
    /** Every flag daxfs knows: the orphan mark and the chattr flags, at their Linux values (none is bit 0). */
    public static final int KNOWN_FLAGS = FLAG_ORPHAN | ChattrFlags.STORED;

    private InodeLayout() {
    }
}
