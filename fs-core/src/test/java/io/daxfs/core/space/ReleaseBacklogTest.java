package io.daxfs.core.space;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.TestDevice;
import io.daxfs.core.alloc.BlockAllocator;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small freed extents go back to the allocator at once and keep their memory; their release
 * (an image punched) comes in batches, and a batch never releases a block that was allocated
 * again since it was noted.
 */
class ReleaseBacklogTest {
    private static final int B = Geometry.BLOCK_SIZE;

    @Test
    void aSmallFreedExtentIsReusableAtOnceAndNotedForALaterRelease() {
        try (TestDevice dev = TestDevice.create(32 * MIB)) {
            DaxFileSystem fs = dev.fs();
            Space space = fs.internals().space();
            fs.create(ROOT, "anchor", 0644, 0, 0); // the root keeps its directory block
            long ino = fs.create(ROOT, "f", 0644, 0, 0);
            TestDevice.write(fs, ino, 0, pattern(1, 0, 3 * B));
            long free = fs.internals().blockAllocator().freeBlocks();
            fs.unlink(ROOT, "f");
            assertEquals(free + 3, fs.internals().blockAllocator().freeBlocks(), "free at once");
            assertEquals(3, space.unreleasedBlocks(), "noted, not released");
            space.releaseBacklog(0);
            assertEquals(0, space.unreleasedBlocks());
            assertEquals(free + 3, fs.internals().blockAllocator().freeBlocks(), "a release keeps them free");
        }
    }

    /**
     * The block of a deleted file is given to a new file before the batch runs: the batch
     * must leave it alone (a release of the noted range as it was would zero the new data).
     */
    @Test
    void aBatchNeverReleasesABlockAllocatedAgain() {
        try (TestDevice dev = TestDevice.create(32 * MIB)) {
            DaxFileSystem fs = dev.fs();
            Space space = fs.internals().space();
            List<Long> kept = new ArrayList<>();
            fs.create(ROOT, "anchor", 0644, 0, 0);
            for (int i = 0; i < 40; i++) {
                long ino = fs.create(ROOT, "old" + i, 0644, 0, 0);
                TestDevice.write(fs, ino, 0, pattern(i, 0, B));
            }
            for (int i = 0; i < 40; i++) {
                fs.unlink(ROOT, "old" + i);
            }
            assertEquals(40, space.unreleasedBlocks());
            for (int i = 0; i < 40; i += 2) { // every other freed block, by best fit and goal
                long ino = fs.create(ROOT, "new" + i, 0644, 0, 0);
                TestDevice.write(fs, ino, 0, pattern(100 + i, 0, B));
                kept.add(ino);
            }
            space.releaseBacklog(0);
            for (int i = 0; i < kept.size(); i++) {
                assertArrayEquals(pattern(100 + 2 * i, 0, B), TestDevice.readAll(fs, kept.get(i)),
                        "new" + 2 * i + " lost its data to the batch release");
            }
        }
    }

    @Test
    void freesPastTheBudgetAreReleasedAndGiveTheMemoryBack() throws Exception {
        try (TestDevice dev = TestDevice.create(32 * MIB)) {
            DaxFileSystem fs = dev.fs();
            Space space = fs.internals().space();
            long budget = new ReleaseBacklog(fs.internals().journal().checksums().geometry().dataBlocks()).budget();
            int files = (int) budget + 50;
            fs.create(ROOT, "anchor", 0644, 0, 0);
            for (int i = 0; i < files; i++) {
                long ino = fs.create(ROOT, "f" + i, 0644, 0, 0);
                TestDevice.write(fs, ino, 0, pattern(i, 0, B));
            }
            long filled = allocatedBytes(dev.image());
            for (int i = 0; i < files; i++) {
                fs.unlink(ROOT, "f" + i);
            }
            assertTrue(space.unreleasedBlocks() <= budget, space.unreleasedBlocks() + " blocks noted, budget " + budget);
            assertTrue(space.unreleasedBlocks() >= budget / 2, "a batch releases the oldest half, not everything");
            long afterBatches = allocatedBytes(dev.image());
            assertTrue(afterBatches <= filled - (files - budget) * B,
                    "the image kept its memory: " + filled + " bytes before the unlinks, " + afterBatches + " after");
            fs.close(); // unmount releases the rest
            assertTrue(allocatedBytes(dev.image()) <= afterBatches - (budget / 2) * B, "close released the backlog");
        }
    }

    /**
     * Batches run inside other threads' unlinks while files are written and read back: a batch
     * that released a block some file holds would show up as zeros where its data was. The
     * small image keeps the budget small (a batch every few hundred frees).
     */
    @Test
    void batchesRunningBesideWritersNeverTouchTheirBlocks() throws Exception {
        try (TestDevice dev = TestDevice.create(32 * MIB)) {
            DaxFileSystem fs = dev.fs();
            fs.create(ROOT, "anchor", 0644, 0, 0);
            int threads = 3;
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try {
                List<java.util.concurrent.Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    done.add(pool.submit(() -> {
                        int checked = 0;
                        for (int i = 0; i < 1_500; i++) {
                            String name = "t" + id + "-" + (i % 7);
                            long ino = fs.create(ROOT, name, 0644, 0, 0);
                            byte[] data = pattern(id * 100_000L + i, 0, (1 + i % 3) * B);
                            TestDevice.write(fs, ino, 0, data);
                            Thread.yield(); // let another thread's unlink (and its batch) run here
                            assertArrayEquals(data, TestDevice.readAll(fs, ino), name + " round " + i);
                            fs.unlink(ROOT, name);
                            checked++;
                        }
                        return checked;
                    }));
                }
                for (var f : done) {
                    assertEquals(1_500, f.get());
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(fs.internals().space().unreleasedBlocks()
                    <= new ReleaseBacklog(fs.internals().journal().checksums().geometry().dataBlocks()).budget());
        }
    }

    @Test
    void mergeJoinsOverlappingAndAdjacentRangesInOrder() {
        long[] pairs = {10, 2, 4, 3, 12, 1, 20, 5, 5, 1, 30, 1, 25, 2};
        assertArrayEquals(new long[] {4, 3, 10, 3, 20, 7, 30, 1}, ReleaseBacklog.merge(pairs, pairs.length));
    }

    @Test
    void takeFreeTakesOnlyTheFreeParts() {
        BlockAllocator a = new BlockAllocator(10, 100);
        a.free(10, 90);
        a.allocate(20, 5); // 20..24 in use
        var taken = a.takeFree(18, 10); // 18,19 and 25..27 free
        assertEquals("[Extent[start=18, length=2], Extent[start=25, length=3]]", taken.toString());
        assertTrue(!a.isFree(18, 1) && !a.isFree(27, 1) && a.isFree(28, 1));
    }

    /** Bytes of memory the image file holds (st_blocks * 512). */
    private static long allocatedBytes(Path image) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-c", "%b", image.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor(), out);
        return Long.parseLong(out) * 512;
    }
}
