package io.daxfs.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.xattr.XattrCheck;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.ScratchRegion;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes the extended-attribute index decoder ({@code XattrFormat.decode}, through
 * {@link XattrCheck#inspect} and fsck's {@link XattrCheck#check}): the header, its extents and
 * CRC, and the log of set/remove records with their CRCs and out-of-line value extents.
 *
 * <p>Input: byte 0 flags (bit 0: leave every CRC as it is; bit 1: leave the records' CRCs but
 * reseal the header's; bit 2: leave the magic as it is), then up to 4096 bytes laid over the
 * first block of the index of {@link FuzzImage}'s file with attributes.
 */
class XattrFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void xattr(byte[] data) {
        if (data.length < 1) {
            return;
        }
        FuzzImage image = FuzzImage.get();
        Geometry g = image.g;
        long ino = image.inode("/x");
        ScratchRegion region = image.undoRegion();
        try {
            MemorySegment media = region.readView();
            long first = media.get(MediaOrder.LONG, g.inodeOffset(ino) + InodeLayout.XATTR);
            long base = Geometry.blockOffset(first);
            region.write(base, data, 1, Math.min(4096, data.length - 1));
            if ((data[0] & 4) == 0) {
                region.putInt(base, Reseal.XATTR_MAGIC);
            }
            if ((data[0] & 1) == 0) {
                new Reseal(region, image.checksums).xattrArea(first, (data[0] & 2) == 0);
            }
            Decoding.decode(() -> XattrCheck.inspect(media, g, ino));
            List<String> errors = new ArrayList<>();
            long[] claimed = {0};
            long blocks = XattrCheck.check(media, g, ino, (start, length, what) -> {
                if (!g.inDataArea(start, length)) {
                    throw new AssertionError("fsck was given " + what + " " + start + "+" + length
                            + " outside the data area");
                }
                claimed[0] += length;
            }, errors::add);
            if (errors.isEmpty() && blocks != claimed[0]) {
                throw new AssertionError("attributes own " + blocks + " blocks but claimed " + claimed[0]);
            }
        } finally {
            region.rollback();
        }
    }
}
