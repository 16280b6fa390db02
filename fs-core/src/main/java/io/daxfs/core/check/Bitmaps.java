package io.daxfs.core.check;

import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.BitSet;

/**
 * fsck's bitmaps: each block against its entry in the checksum table, then both bitmaps
 * against what the check found in use - the inodes it kept, the metadata region and the
 * blocks inodes own. A repair rewrites every bitmap block that differs (the commit reseals
 * it) and reseals one that only failed its checksum: free space and the inode count are
 * rebuilt from what is owned.
 */
final class Bitmaps {
    private static final int BITS_PER_BLOCK = 8 * Geometry.BLOCK_SIZE;
    private final Scan s;
    private final Geometry g;

    Bitmaps(Scan s) {
        this.s = s;
        this.g = s.g;
    }

    /** Bitmap blocks whose checksum fails, numbered from the first inode-bitmap block. */
    BitSet checksums() {
        BitSet bad = new BitSet();
        long blocks = g.inodeBitmapBlocks() + g.blockBitmapBlocks();
        for (long i = 0; i < blocks; i++) {
            long b = g.inodeBitmapStart() + i;
            if (!s.checksums.bitmapOk(s.media, b)) {
                s.problem((b < g.blockBitmapStart() ? "inode" : "block") + " bitmap block " + b
                        + " fails its checksum", "rebuilt it from what is in use");
                bad.set((int) i);
            }
        }
        return bad;
    }

    void compare() {
        BitSet inodes = new BitSet();
        for (long ino : s.nodes.keySet()) {
            inodes.set((int) (ino - 1));
        }
        compare(inodes, g.inodeBitmapStart(), g.inodeBitmapBlocks(), 0, "inode");
        compare(s.owned, g.blockBitmapStart(), g.blockBitmapBlocks(), (int) g.inodeBitmapBlocks(), "block");
    }

    private void compare(BitSet wanted, long start, long blocks, int firstIndex, String what) {
        long markedNotUsed = 0;
        long usedNotMarked = 0;
        long firstMarked = -1;
        long firstUsed = -1;
        for (long i = 0; i < blocks; i++) {
            long base = Geometry.blockOffset(start + i);
            byte[] have = s.media.asSlice(base, Geometry.BLOCK_SIZE).toArray(ValueLayout.JAVA_BYTE);
            int from = (int) (i * BITS_PER_BLOCK);
            byte[] want = Arrays.copyOf(wanted.get(from, from + BITS_PER_BLOCK).toByteArray(), Geometry.BLOCK_SIZE);
            if (Arrays.equals(have, want)) {
                if (s.badBitmaps.get(firstIndex + (int) i) && s.fixes != null) {
                    s.fixes.seal(Checksums.Kind.BITMAP, base);
                }
                continue;
            }
            BitSet h = BitSet.valueOf(have);
            BitSet w = BitSet.valueOf(want);
            BitSet extra = (BitSet) h.clone();
            extra.andNot(w);
            BitSet missing = (BitSet) w.clone();
            missing.andNot(h);
            if (!extra.isEmpty() && firstMarked < 0) {
                firstMarked = from + extra.nextSetBit(0);
            }
            if (!missing.isEmpty() && firstUsed < 0) {
                firstUsed = from + missing.nextSetBit(0);
            }
            markedNotUsed += extra.cardinality();
            usedNotMarked += missing.cardinality();
            if (s.fixes != null) {
                s.fixes.write(base, want);
            }
        }
        boolean inodes = what.equals("inode");
        if (markedNotUsed > 0) {
            s.problem(markedNotUsed + (inodes ? " inode(s) marked in use but not in use, first inode " + (firstMarked + 1)
                    : " block(s) marked in use but owned by nothing (leaked), first " + firstMarked),
                    "marked them free");
        }
        if (usedNotMarked > 0) {
            s.problem(usedNotMarked + (inodes ? " inode(s) in use but marked free, first inode " + (firstUsed + 1)
                    : " block(s) in use but marked free, first " + firstUsed), "marked them in use");
        }
    }
}
