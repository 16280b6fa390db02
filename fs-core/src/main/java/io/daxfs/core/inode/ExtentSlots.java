package io.daxfs.core.inode;

/**
 * Encoding of one 16-byte extent slot, inline in the inode or in an overflow block.
 *
 * <pre>
 * word 0: first logical block of the file (u64)
 * word 1: bits 0..39 first physical block, bits 40..63 length in blocks (0 = free slot)
 * </pre>
 *
 * Overflow block (format 2): a 32-byte header, then {@link #SLOTS_PER_OVERFLOW_BLOCK} slots.
 * <pre>
 *  0 next overflow block u64 (0 = end)   8 magic u32 "DXOV"   12 CRC32C u32
 * 16 owner inode u64                     24 reserved u64
 * </pre>
 */
public final class ExtentSlots {
    public static final int SLOT_SIZE = 16;
    public static final int OVERFLOW_NEXT = 0;
    public static final int OVERFLOW_MAGIC = 8;
    public static final int OVERFLOW_CRC = io.daxfs.core.format.Checksums.OVERFLOW_CRC;
    public static final int OVERFLOW_OWNER = 16;
    public static final int OVERFLOW_HEADER = 32;
    /** "DXOV", little endian. */
    public static final int OVERFLOW_MAGIC_VALUE = 0x564f5844;
    public static final int SLOTS_PER_OVERFLOW_BLOCK = (4096 - OVERFLOW_HEADER) / SLOT_SIZE;
    /** Longest extent one slot can describe (24-bit length). */
    public static final long MAX_EXTENT_BLOCKS = (1L << 24) - 1;
    public static final long MAX_PHYSICAL_BLOCK = (1L << 40) - 1;
    /** Blocks of the largest file (2^63 bytes): no extent may reach past it. */
    public static final long MAX_FILE_BLOCKS = 1L << 51;

    private ExtentSlots() {
    }

    public static long packPhysical(long pblk, long length) {
        if (pblk > MAX_PHYSICAL_BLOCK || length > MAX_EXTENT_BLOCKS || length <= 0) {
            throw new IllegalArgumentException("extent " + pblk + "+" + length + " not encodable");
        }
        return pblk | (length << 40);
    }

    public static long physical(long word1) {
        return word1 & MAX_PHYSICAL_BLOCK;
    }

    public static long length(long word1) {
        return word1 >>> 40;
    }
}
