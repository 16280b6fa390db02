package io.daxfs.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.daxfs.core.dir.Directory;
import io.daxfs.core.dir.DirentLayout;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.ScratchRegion;

import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * Fuzzes the directory block decoder: {@link DirentLayout#records} (which must never throw)
 * and {@link Directory#load}, structure only and verified as a mount loads it (magic, owner,
 * checksum, every entry against the inode bitmap and the inode's type), behind the block's CRC.
 * A directory that loads is looked up by each of its names.
 *
 * <p>Input: byte 0 flags (bit 0: leave the CRC as it is; bit 1: leave the magic and owner as
 * they are), then up to 4096 bytes laid over the first block of {@link FuzzImage}'s directory
 * of 200 entries.
 */
class DirectoryFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void directory(byte[] data) {
        if (data.length < 1) {
            return;
        }
        FuzzImage image = FuzzImage.get();
        Geometry g = image.g;
        long dir = image.inode("/big");
        ScratchRegion region = image.undoRegion();
        try {
            MemorySegment media = region.readView();
            ExtentMap map = ExtentMap.load(media, image.checksums, dir);
            long blk = map.find(0).physical();
            long base = Geometry.blockOffset(blk);
            region.write(base, data, 1, Math.min(4096, data.length - 1));
            if ((data[0] & 2) == 0) {
                region.putInt(base + DirentLayout.BLOCK_MAGIC, DirentLayout.BLOCK_MAGIC_VALUE);
                region.putLong(base + DirentLayout.BLOCK_OWNER, dir);
            }
            if ((data[0] & 1) == 0) {
                new Reseal(region, image.checksums).dataBlock(blk);
            }
            var records = DirentLayout.records(media, base);
            for (int i = 0; i < records.size() - 1; i++) {
                if (records.get(i).problem() != null) {
                    throw new AssertionError("a record with a problem is not the last: " + records);
                }
            }
            Decoding.decode(() -> Directory.load(media, map));
            Directory d = Decoding.decode(() -> Directory.load(media, map, new Directory.Verify(image.checksums,
                    dir, g.inodeCount(), ino -> image.bit(g.inodeBitmapOffset(), ino - 1),
                    ino -> media.get(MediaOrder.INT, g.inodeOffset(ino) + InodeLayout.MODE))));
            if (d == null) {
                return;
            }
            for (Map.Entry<String, Directory.Entry> e : d.snapshot()) {
                if (d.lookup(e.getKey()) == null) {
                    throw new AssertionError("a loaded name does not look up: " + e.getKey());
                }
            }
            d.size();
            d.subdirectories();
        } finally {
            region.rollback();
        }
    }
}
