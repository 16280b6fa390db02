package io.daxfs.core.format;

/**
 * Where each region lives on the device, in blocks of {@link #BLOCK_SIZE} bytes. Fixed at
 * mkfs and stored in the superblock; never changes afterwards.
 *
 * <pre>
 * block 0                 superblock
 * block 1                 backup superblock
 * journalStart..          metadata journal (header block + circular log)
 * inodeBitmapStart..      1 bit per inode, 1 = in use
 * blockBitmapStart..      1 bit per block of the whole device, 1 = in use
 * checksumTableStart..    CRC32C of each bitmap block (format 2, {@link Checksums})
 * inodeTableStart..       inodeCount inodes of 256 bytes
 * dataStart..totalBlocks  data, directory and extent-overflow blocks
 * </pre>
 */
public record Geometry(
        long totalBlocks,
        long journalStart, long journalBlocks,
        long inodeBitmapStart, long inodeBitmapBlocks,
        long blockBitmapStart, long blockBitmapBlocks,
        long checksumTableStart, long checksumTableBlocks,
        long inodeTableStart, long inodeCount,
        long dataStart) {

    public static final int BLOCK_SIZE = 4096;
    public static final int BLOCK_SHIFT = 12;
    public static final int INODE_SIZE = 256;
    public static final int INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
    /** Smallest device mkfs accepts: room for metadata and a useful amount of data. */
    public static final long MIN_DEVICE_BYTES = 16L << 20;
    public static final long MIN_JOURNAL_BLOCKS = 256;
    public static final long MAX_JOURNAL_BLOCKS = 16384;
    /**
     * Most inodes a file system can have: the in-memory inode allocator is a java.util.BitSet,
     * indexed by int (2^31 - 1, rounded down to a whole inode-table block).
     */
    public static final long MAX_INODES = (Integer.MAX_VALUE / INODES_PER_BLOCK) * (long) INODES_PER_BLOCK;

    /**
     * Geometry for a device of {@code bytes}: {@code requestedInodes} inodes rounded up to a
     * multiple of {@link #INODES_PER_BLOCK} (0 = the default, one per 16 KiB, at least 1024),
     * journal ~1/256 of the device.
     *
     * @throws IllegalArgumentException for a negative inode count, one above {@link #MAX_INODES},
     *                                  or one whose table leaves no room for data
     */
    public static Geometry forDevice(long bytes, long requestedInodes) {
        if (requestedInodes < 0 || requestedInodes > MAX_INODES) {
            throw new IllegalArgumentException("inode count " + requestedInodes + " is out of range: 1 to " + MAX_INODES);
        }
        if (bytes < MIN_DEVICE_BYTES) {
            throw new IllegalArgumentException("device of " + bytes + " bytes is smaller than the minimum of "
                    + MIN_DEVICE_BYTES + " bytes (16 MiB)");
        }
        long total = bytes >>> BLOCK_SHIFT;
        long journal = Math.clamp(total / 256, MIN_JOURNAL_BLOCKS, MAX_JOURNAL_BLOCKS);
        long inodes = requestedInodes > 0 ? requestedInodes : Math.max(1024, bytes / (16 << 10));
        inodes = roundUp(inodes, INODES_PER_BLOCK);
        long inodeBitmapBlocks = divUp(inodes, BLOCK_SIZE * 8L);
        long blockBitmapBlocks = divUp(total, BLOCK_SIZE * 8L);
        long inodeTableBlocks = inodes / INODES_PER_BLOCK;
        long checksumTableBlocks = checksumTableBlocks(inodeBitmapBlocks, blockBitmapBlocks);
        long journalStart = 2;
        long inodeBitmapStart = journalStart + journal;
        long blockBitmapStart = inodeBitmapStart + inodeBitmapBlocks;
        long checksumTableStart = blockBitmapStart + blockBitmapBlocks;
        long inodeTableStart = checksumTableStart + checksumTableBlocks;
        long dataStart = inodeTableStart + inodeTableBlocks;
        if (dataStart + 64 > total) {
            throw new IllegalArgumentException("device of " + bytes + " bytes has no room for data after "
                    + dataStart + " metadata blocks (" + inodes + " inodes take " + inodeTableBlocks
                    + " blocks); ask for fewer inodes");
        }
        return new Geometry(total, journalStart, journal, inodeBitmapStart, inodeBitmapBlocks,
                blockBitmapStart, blockBitmapBlocks, checksumTableStart, checksumTableBlocks, inodeTableStart, inodes,
                dataStart);
    }

    /** Blocks of the checksum table: one u32 per bitmap block, inode bitmap first. */
    static long checksumTableBlocks(long inodeBitmapBlocks, long blockBitmapBlocks) {
        return divUp((inodeBitmapBlocks + blockBitmapBlocks) * Checksums.BITMAP_ENTRY, BLOCK_SIZE);
    }

    /**
     * Checks the internal consistency of a geometry read from a superblock: every field is
     * derived again from the others, so a geometry that passes describes regions that follow
     * each other without gaps or overlaps and end inside the device. Returns null if sound.
     */
    public String validate(long deviceBytes) {
        if (totalBlocks <= 0 || totalBlocks > (deviceBytes >>> BLOCK_SHIFT)) {
            return "superblock says " + totalBlocks + " blocks but the device has only " + (deviceBytes / BLOCK_SIZE);
        }
        if (inodeCount <= 0 || inodeCount > MAX_INODES || inodeCount % INODES_PER_BLOCK != 0
                || journalStart != 2 || journalBlocks < MIN_JOURNAL_BLOCKS || journalBlocks > MAX_JOURNAL_BLOCKS
                || inodeBitmapStart != journalStart + journalBlocks
                || inodeBitmapBlocks != divUp(inodeCount, BLOCK_SIZE * 8L)
                || blockBitmapStart != inodeBitmapStart + inodeBitmapBlocks
                || blockBitmapBlocks != divUp(totalBlocks, BLOCK_SIZE * 8L)
                || checksumTableStart != blockBitmapStart + blockBitmapBlocks
                || checksumTableBlocks != checksumTableBlocks(inodeBitmapBlocks, blockBitmapBlocks)
                || inodeTableStart != checksumTableStart + checksumTableBlocks
                || dataStart != inodeTableStart + inodeCount / INODES_PER_BLOCK
                || dataStart >= totalBlocks) {
            return "inconsistent geometry " + this;
        }
        return null;
    }

    public long dataBlocks() {
        return totalBlocks - dataStart;
    }

    public long journalOffset() {
        return journalStart << BLOCK_SHIFT;
    }

    public long journalBytes() {
        return journalBlocks << BLOCK_SHIFT;
    }

    public long inodeBitmapOffset() {
        return inodeBitmapStart << BLOCK_SHIFT;
    }

    public long blockBitmapOffset() {
        return blockBitmapStart << BLOCK_SHIFT;
    }

    public long checksumTableOffset() {
        return checksumTableStart << BLOCK_SHIFT;
    }

    /** Byte offset of the inode table. */
    public long inodeTableOffset() {
        return inodeTableStart << BLOCK_SHIFT;
    }

    /** Whether block {@code block} is a bitmap block (inode or block bitmap). */
    public boolean isBitmapBlock(long block) {
        return block >= inodeBitmapStart && block < blockBitmapStart + blockBitmapBlocks;
    }

    /** Whether [start, start+length) is a non-empty range of blocks inside the data area. */
    public boolean inDataArea(long start, long length) {
        return length > 0 && start >= dataStart && start < totalBlocks && length <= totalBlocks - start;
    }

    /** Byte offset of inode {@code ino} (1-based: inode 1 is the root directory). */
    public long inodeOffset(long ino) {
        return (inodeTableStart << BLOCK_SHIFT) + (ino - 1) * INODE_SIZE;
    }

    public static long blockOffset(long block) {
        return block << BLOCK_SHIFT;
    }

    public static long divUp(long a, long b) {
        return (a + b - 1) / b;
    }

    public static long roundUp(long a, long b) {
        return divUp(a, b) * b;
    }
}
