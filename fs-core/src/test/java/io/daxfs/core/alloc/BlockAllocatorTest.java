package io.daxfs.core.alloc;

import io.daxfs.core.format.Geometry;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-memory free-space index: merging, best fit, goal allocation, misuse detection. */
class BlockAllocatorTest {

    /** Data area [100, 1000), all in use until freed. */
    private static BlockAllocator empty() {
        return new BlockAllocator(100, 1000);
    }

    @Test
    void freeMergesWithBothNeighbours() {
        BlockAllocator a = empty();
        a.free(200, 10); // A
        a.free(220, 10); // C
        assertEquals(List.of(new Extent(200, 10), new Extent(220, 10)), a.freeExtents());
        a.free(210, 10); // B fills the gap
        assertEquals(List.of(new Extent(200, 30)), a.freeExtents());
        assertEquals(30, a.freeBlocks());
        // The merged extent serves a request no piece could.
        assertEquals(new Extent(200, 30), a.allocate(-1, 30));
        assertEquals(0, a.freeBlocks());
    }

    @Test
    void freeMergesWithOneNeighbour() {
        BlockAllocator a = empty();
        a.free(300, 5);
        a.free(305, 5); // right after: merges left
        assertEquals(List.of(new Extent(300, 10)), a.freeExtents());
        a.free(290, 10); // right before: merges right
        assertEquals(List.of(new Extent(290, 20)), a.freeExtents());
        a.free(311, 1); // one block gap: no merge
        assertEquals(List.of(new Extent(290, 20), new Extent(311, 1)), a.freeExtents());
        assertEquals(21, a.freeBlocks());
    }

    @Test
    void bestFitPicksSmallestExtentThatHolds() {
        BlockAllocator a = empty();
        a.free(100, 10);
        a.free(200, 3);
        a.free(300, 5);
        a.free(400, 8);
        assertEquals(new Extent(300, 4), a.allocate(-1, 4), "5 is the smallest that holds 4");
        assertEquals(new Extent(200, 3), a.allocate(-1, 3), "exact fit");
        assertEquals(new Extent(100, 9), a.allocate(-1, 9));
        // Left: 109+1, 304+1, 400+8. Equal lengths: the lowest start.
        assertEquals(new Extent(109, 1), a.allocate(-1, 1), "a smallest remainder");
        assertEquals(new Extent(304, 1), a.allocate(-1, 1));
        a.free(200, 2);
        // Nothing holds 50: the largest extent is handed out, shorter than asked.
        assertEquals(new Extent(400, 8), a.allocate(-1, 50));
        assertEquals(new Extent(200, 2), a.allocate(-1, 50));
        assertNull(a.allocate(-1, 1));
    }

    @Test
    void bestFitPrefersLowestStartAmongEqualLengths() {
        BlockAllocator a = empty();
        a.free(700, 4);
        a.free(300, 4);
        a.free(500, 4);
        assertEquals(new Extent(300, 2), a.allocate(-1, 2));
        assertEquals(new Extent(302, 2), a.allocate(-1, 2), "the remainder of 300 is now the smallest");
        assertEquals(new Extent(500, 4), a.allocate(-1, 4));
    }

    @Test
    void goalAllocationExtendsContiguously() {
        BlockAllocator a = empty();
        a.free(100, 900);
        Extent first = a.allocate(500, 10);
        assertEquals(new Extent(500, 10), first, "starts exactly at a free goal");
        assertEquals(new Extent(510, 7), a.allocate(first.end(), 7), "continues right after");
        // A goal in the middle of a free extent splits it.
        assertEquals(List.of(new Extent(100, 400), new Extent(517, 483)), a.freeExtents());
        // The goal block is in use: best fit instead (smallest extent that holds 16).
        assertEquals(new Extent(100, 16), a.allocate(505, 16));
        // Only 3 blocks free at the goal: the goal wins, the result is shorter than asked.
        BlockAllocator b = empty();
        b.free(100, 3);
        b.free(500, 100);
        assertEquals(new Extent(100, 3), b.allocate(100, 10));
        // Goals outside the data area are ignored.
        assertEquals(new Extent(500, 5), b.allocate(-1, 5));
        assertEquals(new Extent(505, 5), b.allocate(50, 5));
    }

    @Test
    void doubleFreeAndFreesOutsideTheDataAreaThrow() {
        BlockAllocator a = empty();
        a.free(100, 900);
        assertThrows(IllegalStateException.class, () -> a.free(150, 1), "block already free");
        Extent e = a.allocate(-1, 20); // [100, 120)
        a.free(e.start(), e.length());
        assertThrows(IllegalStateException.class, () -> a.free(e.start(), e.length()), "same extent twice");
        Extent f = a.allocate(400, 10); // [400, 410)
        assertThrows(IllegalStateException.class, () -> a.free(395, 10), "overlaps a free extent on the left");
        assertThrows(IllegalStateException.class, () -> a.free(405, 10), "overlaps a free extent on the right");
        assertThrows(IllegalStateException.class, () -> a.free(399, 12), "covers a used range and both sides");
        assertThrows(IllegalStateException.class, () -> a.free(50, 10), "before the data area");
        assertThrows(IllegalStateException.class, () -> a.free(995, 10), "past the end");
        assertThrows(IllegalStateException.class, () -> a.free(400, 0), "empty");
        assertEquals(890, a.freeBlocks(), "refused frees changed nothing");
        a.free(f.start(), f.length());
        assertEquals(List.of(new Extent(100, 900)), a.freeExtents());
        assertThrows(IllegalArgumentException.class, () -> a.allocate(-1, 0));
    }

    @Test
    void allocateReturnsNullOnlyWhenNothingIsFree() {
        long seed = io.daxfs.core.TestDevice.seed("BlockAllocatorTest.allocateReturnsNullOnlyWhenNothingIsFree");
        Random rnd = new Random(seed);
        BlockAllocator a = empty();
        BitSet used = new BitSet();
        used.set(0, 100);
        // A fragmented free space.
        for (long b = 100; b < 1000; b++) {
            if (rnd.nextInt(3) != 0) {
                a.free(b, 1);
            } else {
                used.set((int) b);
            }
        }
        long free = a.freeBlocks();
        assertEquals(1000 - used.cardinality(), free);
        long got = 0;
        while (true) {
            Extent e = a.allocate(rnd.nextBoolean() ? -1 : 100 + rnd.nextInt(900), 1 + rnd.nextInt(40));
            if (e == null) {
                break;
            }
            assertTrue(e.start() >= 100 && e.end() <= 1000, e.toString());
            for (long b = e.start(); b < e.end(); b++) {
                assertFalse(used.get((int) b), "block " + b + " handed out twice (seed " + seed + ")");
                used.set((int) b);
            }
            got += e.length();
            assertEquals(free - got, a.freeBlocks());
        }
        assertEquals(free, got, "null came before every free block was handed out");
        assertEquals(0, a.freeBlocks());
        assertTrue(a.freeExtents().isEmpty());
    }

    @Test
    void isFree() {
        BlockAllocator a = empty();
        a.free(200, 10);
        assertTrue(a.isFree(200, 10));
        assertTrue(a.isFree(205, 2));
        assertFalse(a.isFree(199, 2));
        assertFalse(a.isFree(205, 6));
        assertFalse(a.isFree(300, 1));
    }

    @Test
    void loadRebuildsFreeSpaceFromTheBitmap() {
        Geometry g = Geometry.forDevice(16L << 20, 0);
        long total = g.totalBlocks();
        MemorySegment media = MemorySegment.ofArray(new byte[(int) (g.blockBitmapOffset() + g.blockBitmapBlocks() * 4096)]);
        BitSet used = new BitSet();
        used.set(0, (int) g.dataStart());
        Random rnd = new Random(7);
        // Runs that start and end inside words, whole used words, whole free words.
        used.set((int) g.dataStart() + 3, (int) g.dataStart() + 200);
        used.set(1024, 1088); // exactly one 64-bit word
        used.set(2000, 2001);
        for (int i = 0; i < 100; i++) {
            int s = 2100 + rnd.nextInt(1900);
            used.set(s, Math.min((int) total, s + rnd.nextInt(70)));
        }
        used.set((int) total - 1);
        for (int b = used.nextSetBit(0); b >= 0; b = used.nextSetBit(b + 1)) {
            long off = g.blockBitmapOffset() + b / 8;
            media.set(ValueLayout.JAVA_BYTE, off, (byte) (media.get(ValueLayout.JAVA_BYTE, off) | (1 << (b % 8))));
        }
        BlockAllocator a = BlockAllocator.load(media, g);
        List<Extent> expected = new ArrayList<>();
        int b = used.nextClearBit(0);
        while (b < total) {
            int end = Math.min((int) total, used.nextSetBit(b) < 0 ? (int) total : used.nextSetBit(b));
            expected.add(new Extent(b, end - b));
            b = used.nextClearBit(end);
        }
        assertEquals(expected, a.freeExtents());
        assertEquals(total - used.cardinality(), a.freeBlocks());
    }

    @Test
    void loadOfAnAllFreeDataArea() {
        Geometry g = Geometry.forDevice(16L << 20, 0);
        MemorySegment media = MemorySegment.ofArray(new byte[(int) (g.blockBitmapOffset() + g.blockBitmapBlocks() * 4096)]);
        for (long blk = 0; blk < g.dataStart(); blk++) {
            long off = g.blockBitmapOffset() + blk / 8;
            media.set(ValueLayout.JAVA_BYTE, off, (byte) (media.get(ValueLayout.JAVA_BYTE, off) | (1 << (blk % 8))));
        }
        BlockAllocator a = BlockAllocator.load(media, g);
        assertEquals(List.of(new Extent(g.dataStart(), g.dataBlocks())), a.freeExtents());
        assertEquals(g.dataBlocks(), a.freeBlocks());
    }

    /** Aligned allocation (huge-page friendly): the result is free, aligned and of the size asked. */
    @Test
    void allocateAlignedTakesOnlyFreeBlocks() {
        long seed = io.daxfs.core.TestDevice.seed("BlockAllocatorTest.allocateAlignedTakesOnlyFreeBlocks");
        Random rnd = new Random(seed);
        for (int round = 0; round < 200; round++) {
            BlockAllocator a = new BlockAllocator(100, 5000);
            BitSet free = new BitSet();
            for (long b = 100; b < 5000; ) {
                int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 10 : 700);
                len = (int) Math.min(len, 5000 - b);
                if (rnd.nextBoolean()) {
                    a.free(b, len);
                    free.set((int) b, (int) b + len);
                }
                b += len + 1;
            }
            long wanted = 1 + rnd.nextInt(600);
            long align = 512;
            long residue = rnd.nextInt(512);
            Extent e = a.allocateAligned(wanted, align, residue);
            if (e == null) {
                continue;
            }
            String ctx = "round " + round + " seed " + seed + ": " + e;
            assertEquals(wanted, e.length(), ctx);
            assertEquals(residue, Math.floorMod(e.start(), align), ctx);
            for (long b = e.start(); b < e.end(); b++) {
                assertTrue(free.get((int) b), "block " + b + " was not free, " + ctx);
            }
            assertEquals(free.cardinality() - wanted, a.freeBlocks(), ctx);
        }
    }

    @Test
    void allocateAlignedReturnsNullWhenNothingFits() {
        BlockAllocator a = new BlockAllocator(100, 5000);
        a.free(100, 10);
        a.free(1000, 20);
        assertNull(a.allocateAligned(512, 512, 0));
        assertEquals(30, a.freeBlocks());
        Extent e = a.allocateAligned(8, 512, 1000 % 512);
        assertNotNull(e);
        assertEquals(1000, e.start());
    }
}
