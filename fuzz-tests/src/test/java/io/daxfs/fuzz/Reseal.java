package io.daxfs.fuzz;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentSlots;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.zip.CRC32C;

/**
 * Recomputes the checksums of metadata a fuzz input changed, so that the input reaches the
 * parsing behind each checksum instead of stopping at it (format 2 has a CRC32C on every
 * metadata unit: docs/format.md). Each method rewrites one kind of checksum the way its
 * writer does: the superblock's, the journal slot's, an inode's, a bitmap block's entry in the
 * checksum table, a directory or overflow block's, an attribute index's header and records.
 * Stores go through {@code region}, so that the caller's undo puts them back.
 */
final class Reseal {
    static final int SLOT_MAGIC = 0x4e585444; // "DTXN"
    static final int END_MAGIC = 0x444e4554; // "TEND"
    static final int DIR_MAGIC = 0x42445844; // "DXDB"
    static final int XATTR_MAGIC = 0x31415844; // "DXA1"
    static final int XATTR_HEADER = 552;
    static final int XATTR_RECORD_HEADER = 20;

    private final PmemRegion region;
    private final MemorySegment media;
    private final Checksums checksums;
    private final Geometry g;

    Reseal(PmemRegion region, Checksums checksums) {
        this.region = region;
        this.media = region.readView();
        this.checksums = checksums;
        this.g = checksums.geometry();
    }

    /** The CRC of both superblock copies (bytes 0..251 of each). */
    void superblocks() {
        for (long base : new long[] {0, Geometry.BLOCK_SIZE}) {
            region.putInt(base + 252, crc(media, base, 252));
        }
    }

    /**
     * The journal slot's CRC and end magic, when it starts with its magic and its length is
     * one the reader would take ({@code total} from the slot header).
     */
    void slot() {
        long slot = g.journalOffset() + Geometry.BLOCK_SIZE;
        if (media.get(MediaOrder.INT, slot) != SLOT_MAGIC) {
            return;
        }
        long total = media.get(MediaOrder.LONG, slot + 16);
        if (total < 32 || total > g.journalBytes() - Geometry.BLOCK_SIZE || (total & 3) != 0) {
            return;
        }
        long end = total - 8;
        region.putInt(slot + end, crc(media, slot, end));
        region.putInt(slot + end + 4, END_MAGIC);
    }

    /** Every checksummed unit that overlaps [from, to) of the device. */
    void unitsIn(long from, long to) {
        long firstBlock = Math.max(0, from >>> Geometry.BLOCK_SHIFT);
        long lastBlock = Math.min(g.totalBlocks() - 1, (to - 1) >>> Geometry.BLOCK_SHIFT);
        for (long b = firstBlock; b <= lastBlock; b++) {
            block(b, Math.max(from, b << Geometry.BLOCK_SHIFT), Math.min(to, (b + 1) << Geometry.BLOCK_SHIFT));
        }
    }

    private void block(long b, long from, long to) {
        long base = b << Geometry.BLOCK_SHIFT;
        if (b >= g.inodeTableStart() && b < g.dataStart()) {
            long table = g.inodeTableOffset();
            for (long u = table + (from - table) / 256 * 256; u < to; u += 256) {
                inode(u);
            }
        } else if (g.isBitmapBlock(b)) {
            bitmap(b);
        } else if (b >= g.dataStart()) {
            dataBlock(b);
        }
    }

    /** The inode at byte {@code unitStart}. */
    void inode(long unitStart) {
        region.putInt(checksums.crcOffset(Checksums.Kind.INODE, unitStart),
                checksums.compute(Checksums.Kind.INODE, media, unitStart));
    }

    /** The checksum-table entry of bitmap block {@code b}. */
    void bitmap(long b) {
        long unit = b << Geometry.BLOCK_SHIFT;
        region.putInt(checksums.crcOffset(Checksums.Kind.BITMAP, unit),
                checksums.compute(Checksums.Kind.BITMAP, media, unit));
    }

    /** A data-area block, by the magic it carries: directory, overflow or attribute-index block. */
    void dataBlock(long b) {
        long base = b << Geometry.BLOCK_SHIFT;
        if (media.get(MediaOrder.INT, base) == DIR_MAGIC) {
            region.putInt(base + Checksums.DIRECTORY_CRC, checksums.compute(Checksums.Kind.DIRECTORY, media, base));
        } else if (media.get(MediaOrder.INT, base + ExtentSlots.OVERFLOW_MAGIC) == ExtentSlots.OVERFLOW_MAGIC_VALUE) {
            region.putInt(base + Checksums.OVERFLOW_CRC, checksums.compute(Checksums.Kind.OVERFLOW, media, base));
        } else if (media.get(MediaOrder.INT, base) == XATTR_MAGIC) {
            xattrArea(b, true);
        }
    }

    /**
     * An attribute index area starting at block {@code first}: each record's CRC (while the
     * records' lengths walk inside the log end and the area's first extent) when
     * {@code records}, then the header's.
     */
    void xattrArea(long first, boolean records) {
        long base = first << Geometry.BLOCK_SHIFT;
        if (base < 0 || base > media.byteSize() - Geometry.BLOCK_SIZE) {
            return;
        }
        long extent = media.get(MediaOrder.LONG, base + 40);
        long areaBytes = Math.min(ExtentSlots.length(extent), 512) << Geometry.BLOCK_SHIFT;
        long end = Integer.toUnsignedLong(media.get(MediaOrder.INT, base + 16));
        if (records && ExtentSlots.physical(extent) == first && base + areaBytes <= media.byteSize()) {
            long pos = XATTR_HEADER;
            while (pos + XATTR_RECORD_HEADER <= Math.min(end, areaBytes)) {
                long len = Integer.toUnsignedLong(media.get(MediaOrder.INT, base + pos));
                if (len < XATTR_RECORD_HEADER || pos + len > Math.min(end, areaBytes)) {
                    break;
                }
                region.putInt(base + pos + 4, 0);
                region.putInt(base + pos + 4, crc(media, base + pos, len));
                pos += len;
            }
        }
        region.putInt(base + 28, 0);
        region.putInt(base + 28, crc(media, base, XATTR_HEADER));
    }

    static int crc(MemorySegment media, long from, long length) {
        CRC32C c = new CRC32C();
        c.update(media.asSlice(from, length).asByteBuffer());
        return (int) c.getValue();
    }

    static byte[] bytes(MemorySegment media, long from, int length) {
        return media.asSlice(from, length).toArray(ValueLayout.JAVA_BYTE);
    }
}
