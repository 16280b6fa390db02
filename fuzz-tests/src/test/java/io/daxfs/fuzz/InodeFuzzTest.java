package io.daxfs.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.daxfs.core.dir.Directory;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.ExtentSlots;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.InodeCheck;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.xattr.XattrCheck;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.ScratchRegion;

import java.lang.foreign.MemorySegment;

/**
 * Fuzzes the inode and extent decoders: {@link InodeCheck} (checksum, mode, flags, every
 * field's range) and {@link ExtentMap#load} (inline slots, the extent-overflow chain, overlaps),
 * behind the inode's and the overflow blocks' CRCs; a map that loads is queried, a directory's
 * blocks are parsed and an attribute index is read, as a mount would go on to do.
 *
 * <p>Input: byte 0 flags (bit 0: leave the CRCs as they are; bit 1: leave the overflow chain's
 * links, magic and owner as they are), then 256 bytes laid over a free inode of
 * {@link FuzzImage}, then up to 4096 bytes per extent-overflow block, laid over free blocks
 * of the data area. Unless told otherwise the inode's overflow field points at the first of
 * those blocks and each block at the next, with its magic and owner.
 */
class InodeFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void inode(byte[] data) {
        if (data.length < 1) {
            return;
        }
        FuzzImage image = FuzzImage.get();
        Geometry g = image.g;
        long ino = g.inodeCount() - 1; // free in the image
        long o = g.inodeOffset(ino);
        ScratchRegion region = image.undoRegion();
        try {
            int flags = data[0];
            int n = Math.min(256, data.length - 1);
            region.write(o, data, 1, n);
            int blocks = Math.min(8, (data.length - 1 - n + 4095) / 4096);
            for (int i = 0; i < blocks; i++) {
                int from = 1 + n + i * 4096;
                long base = Geometry.blockOffset(image.freeBlocks.get(i));
                region.write(base, data, from, Math.min(4096, data.length - from));
                if ((flags & 2) == 0) {
                    region.putLong(base + ExtentSlots.OVERFLOW_NEXT, i + 1 < blocks ? image.freeBlocks.get(i + 1) : 0);
                    region.putInt(base + ExtentSlots.OVERFLOW_MAGIC, ExtentSlots.OVERFLOW_MAGIC_VALUE);
                    region.putLong(base + ExtentSlots.OVERFLOW_OWNER, ino);
                }
            }
            if ((flags & 2) == 0) {
                region.putLong(o + InodeLayout.OVERFLOW, blocks > 0 ? image.freeBlocks.getFirst() : 0);
            }
            if ((flags & 1) == 0) {
                Reseal reseal = new Reseal(region, image.checksums);
                for (int i = 0; i < blocks; i++) {
                    reseal.dataBlock(image.freeBlocks.get(i));
                }
                reseal.inode(o);
            }
            MemorySegment media = region.readView();
            InodeCheck.findings(media, image.checksums, ino);
            Decoding.check(() -> {
                var e = InodeCheck.problem(media, image.checksums, ino);
                if (e != null) {
                    throw e;
                }
            });
            Decoding.decode(() -> ExtentMap.load(media, o));
            ExtentMap map = Decoding.decode(() -> ExtentMap.load(media, image.checksums, ino));
            if (map == null) {
                return;
            }
            long probe = media.get(MediaOrder.LONG, o + InodeLayout.SIZE) >>> Geometry.BLOCK_SHIFT;
            map.find(probe);
            map.floor(probe);
            map.nextAfter(probe);
            long mapped = 0;
            for (FileExtent e : map.extents()) {
                mapped += e.length();
            }
            if (mapped != map.mappedBlocks()) {
                throw new AssertionError("mappedBlocks " + map.mappedBlocks() + " but the extents hold " + mapped);
            }
            map.overflowBlocks();
            int mode = media.get(MediaOrder.INT, o + InodeLayout.MODE);
            if ((mode & 0170000) == 0040000 && mapped <= 64) {
                Decoding.decode(() -> Directory.load(media, map));
            }
            if (media.get(MediaOrder.LONG, o + InodeLayout.XATTR) != 0) {
                Decoding.decode(() -> XattrCheck.inspect(media, g, ino));
            }
        } finally {
            region.rollback();
        }
    }
}
