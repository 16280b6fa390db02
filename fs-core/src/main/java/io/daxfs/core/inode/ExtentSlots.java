package io.daxfs.core.inode;

/**
 * Encoding of one 16-byte extent slot, inline in the inode or in an overflow block.
 *
 * <pre>
 * word 0: first logical block of the file (u64)
 * word 1: bits 0..39 first physical block, bits 40..63 length in blocks (0 = free slot)
 * </pre>
 *
 * Overflow block: word 0 = next overflow block (0 = end), word 1 reserved, then
 * {@link #SLOTS_PER_OVERFLOW_BLOCK} slots.
 */
public final class ExtentSlots {
    public static final int SLOT_SIZE = 16;
    public static final int OVERFLOW_HEADER = 16;
    public static final int SLOTS_PER_OVERFLOW_BLOCK = (4096 - OVERFLOW_HEADER) / SLOT_SIZE;
    /** Longest extent one slot can describe (24-bit length). */
    public static final long MAX_EXTENT_BLOCKS = (1L << 24) - 1;
    public static final long MAX_PHYSICAL_BLOCK = (1L << 40) - 1;

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
