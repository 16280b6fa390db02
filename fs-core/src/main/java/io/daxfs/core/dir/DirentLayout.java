package io.daxfs.core.dir;

/**
 * A directory's data blocks are tiled exactly by variable-length records (as in ext2):
 *
 * <pre>
 *  0 inode u64 (0 = free record)
 *  8 record length u16 (multiple of 8; the record owns that many bytes)
 * 10 name length u8
 * 11 type u8 (DT_* of dirent.h)
 * 12 name bytes (UTF-8, no terminator)
 * </pre>
 *
 * A live record may own more bytes than it needs; the slack is free space for a new record.
 * A fresh block is one free record of 4096 bytes. "." and ".." are not stored.
 */
public final class DirentLayout {
    public static final int INO = 0;
    public static final int REC_LEN = 8;
    public static final int NAME_LEN = 10;
    public static final int TYPE = 11;
    public static final int NAME = 12;
    public static final int MAX_NAME = 255;

    public static final int DT_UNKNOWN = 0;
    public static final int DT_FIFO = 1;
    public static final int DT_CHR = 2;
    public static final int DT_DIR = 4;
    public static final int DT_BLK = 6;
    public static final int DT_REG = 8;
    public static final int DT_LNK = 10;
    public static final int DT_SOCK = 12;

    private DirentLayout() {
    }

    /** Bytes a record with a name of {@code nameLength} bytes needs. */
    public static int needed(int nameLength) {
        return (NAME + nameLength + 7) & ~7;
    }

    /** DT_* type of a file mode. */
    public static int typeOf(int mode) {
        return switch (mode & 0170000) {
            case 0040000 -> DT_DIR;
            case 0100000 -> DT_REG;
            case 0120000 -> DT_LNK;
            case 0010000 -> DT_FIFO;
            case 0020000 -> DT_CHR;
            case 0060000 -> DT_BLK;
            case 0140000 -> DT_SOCK;
            default -> DT_UNKNOWN;
        };
    }
}
