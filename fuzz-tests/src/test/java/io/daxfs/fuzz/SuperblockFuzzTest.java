package io.daxfs.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.journal.Journal;
import io.daxfs.devdax.ScratchRegion;

import java.lang.foreign.MemorySegment;

/**
 * Fuzzes the superblock parser ({@link Superblock#read}, {@link Superblock#problem},
 * {@link Geometry#validate}) behind its CRC. Input: byte 0 flags (bit 0: leave the CRC as the
 * input has it; bit 1: damage the backup copy the same way, else the primary alone), then up
 * to 256 bytes laid over the primary superblock of {@link FuzzImage}. A superblock that passes
 * with another geometry than the image's is checked further by fsck, which must not fail on it.
 */
class SuperblockFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void superblock(byte[] data) {
        if (data.length < 1) {
            return;
        }
        FuzzImage image = FuzzImage.get();
        ScratchRegion region = image.undoRegion();
        try {
            int flags = data[0];
            int n = Math.min(256, data.length - 1);
            region.write(0, data, 1, n);
            if ((flags & 2) != 0) {
                region.write(Geometry.BLOCK_SIZE, data, 1, n);
            }
            if ((flags & 1) == 0) {
                new Reseal(region, image.checksums).superblocks();
            }
            MemorySegment media = region.readView();
            Superblock.hasMagic(media);
            Decoding.decode(() -> Superblock.problem(media, 0));
            Decoding.decode(() -> Superblock.problem(media, 1));
            Superblock sb = Decoding.decode(() -> Superblock.read(media));
            if (sb == null) {
                return;
            }
            Geometry g = sb.geometry();
            if (g.validate(media.byteSize()) != null) {
                throw new AssertionError("read() returned a superblock whose geometry fails validate(): " + g);
            }
            new Checksums(sb);
            Decoding.decode(() -> Journal.header(media, g));
            Decoding.decode(() -> Journal.inspect(media, g));
            if (!g.equals(image.g)) {
                FsckReport r = FsChecker.check(media);
                FsckFuzzTest.assertNoCrash(r, "fsck of an image with geometry " + g);
            }
        } finally {
            region.rollback();
        }
    }
}
