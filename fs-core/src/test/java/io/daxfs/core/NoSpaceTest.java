package io.daxfs.core;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Running out of blocks and of inodes: clean ENOSPC, nothing half done, everything recoverable. */
class NoSpaceTest {
    private static final int B = Geometry.BLOCK_SIZE;

    @Test
    void fillingTheDeviceEndsWithENOSPCAndUnlinkGivesEverythingBack() {
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            DaxFileSystem fs = dev.fs();
            long ino = fs.create(ROOT, "fill", 0644, 0, 0);
            FsStats start = fs.statfs();
            int chunk = 64 * B + 123; // unaligned: every write but the first starts mid-block
            long size = 0;
            byte[] model = new byte[(int) (16 * MIB)];
            FsException enospc = null;
            while (enospc == null) {
                byte[] data = pattern(size, size, chunk);
                try {
                    assertEquals(chunk, fs.write(ino, size, MemorySegment.ofArray(data), 0, chunk));
                    System.arraycopy(data, 0, model, (int) size, chunk);
                    size += chunk;
                } catch (FsException e) {
                    enospc = e;
                }
                assertTrue(size <= 16 * MIB, "wrote more than the device holds");
            }
            assertEquals(Errno.ENOSPC, enospc.errno(), enospc.getMessage());
            assertEquals(size, fs.getattr(ino).size(), "size reflects only the successful writes");
            assertTrue(size > 10 * MIB, "the device was nearly empty: " + size);
            long free = fs.statfs().freeBlocks();
            assertTrue(free < 64 + 2, "ENOSPC with " + free + " free blocks for a write of 65");
            FsSnapshot.assertSpaceAccounted(fs);

            // Smaller writes still fit until the last block is gone.
            while (true) {
                try {
                    byte[] data = pattern(size, size, B);
                    fs.write(ino, size, MemorySegment.ofArray(data), 0, B);
                    System.arraycopy(data, 0, model, (int) size, B);
                    size += B;
                } catch (FsException e) {
                    assertEquals(Errno.ENOSPC, e.errno());
                    break;
                }
            }
            assertEquals(size, fs.getattr(ino).size());
            assertTrue(fs.statfs().freeBlocks() <= 1, "free " + fs.statfs().freeBlocks());
            // A failed write left no partial data: re-read everything.
            assertArrayEquals(java.util.Arrays.copyOf(model, (int) size), TestDevice.readAll(fs, ino));
            // Rewriting mapped blocks still works on a full device.
            fs.write(ino, 10, MemorySegment.ofArray(pattern(10, 10, 100)), 0, 100);
            System.arraycopy(pattern(10, 10, 100), 0, model, 10, 100);
            // Creating a name in a directory block with room needs no block.
            long other = fs.create(ROOT, "empty", 0644, 0, 0);
            fs.truncate(other, 5 * MIB); // a sparse size needs no block

            fs = dev.remount();
            assertEquals(size, fs.getattr(ino).size());
            assertArrayEquals(java.util.Arrays.copyOf(model, (int) size), TestDevice.readAll(fs, ino));
            FsSnapshot.assertSpaceAccounted(fs);

            fs.unlink(ROOT, "fill");
            fs.unlink(ROOT, "empty");
            // The emptied root gives its directory block back too: the whole data area is free.
            long dataBlocks = fs.superblock().geometry().dataBlocks();
            assertEquals(start.freeBlocks() + 1, fs.statfs().freeBlocks(), "every block came back");
            assertEquals(dataBlocks, fs.statfs().freeBlocks());
            assertEquals(start.freeInodes() + 1, fs.statfs().freeInodes());
            fs = dev.remount();
            assertEquals(dataBlocks, fs.statfs().freeBlocks());
            // And the space is usable again.
            long again = fs.create(ROOT, "again", 0644, 0, 0);
            fs.write(again, 0, MemorySegment.ofArray(new byte[(int) (8 * MIB)]), 0, (int) (8 * MIB));
            FsSnapshot.assertSpaceAccounted(fs);
        }
    }

    @Test
    void writeNeedingMoreThanIsFreeFailsWithoutSideEffects() {
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            DaxFileSystem fs = dev.fs();
            long ino = fs.create(ROOT, "f", 0644, 0, 0);
            fs.write(ino, 0, MemorySegment.ofArray(pattern(1, 0, 5000)), 0, 5000);
            FsStats before = fs.statfs();
            var snapshot = FsSnapshot.of(fs, true);
            int tooBig = (int) ((before.freeBlocks() + 10) * B);
            var e = assertThrows(FsException.class,
                    () -> fs.write(ino, 3000, MemorySegment.ofArray(new byte[tooBig]), 0, tooBig));
            assertEquals(Errno.ENOSPC, e.errno());
            assertEquals(before, fs.statfs(), "all or nothing: no block stays allocated");
            assertEquals(snapshot, FsSnapshot.of(fs, true), "the file did not change");
            assertArrayEquals(pattern(1, 0, 5000), TestDevice.readAll(fs, ino));
            FsSnapshot.assertSpaceAccounted(fs);
            assertEquals(before, dev.remount().statfs());
        }
    }

    @Test
    void runningOutOfInodes() {
        try (TestDevice dev = TestDevice.create(16 * MIB, new FormatOptions(32, "", 0, 0))) {
            DaxFileSystem fs = dev.fs();
            FsStats start = fs.statfs();
            assertEquals(32, start.totalInodes());
            assertEquals(31, start.freeInodes());
            List<Long> made = new ArrayList<>();
            long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
            made.add(d);
            for (int i = 0; i < 20; i++) {
                made.add(fs.create(d, "f" + i, 0644, 0, 0));
            }
            for (int i = 0; i < 9; i++) {
                made.add(fs.symlink(ROOT, "s" + i, "t", 0, 0));
            }
            made.add(fs.mknod(ROOT, "last", FileMode.S_IFIFO | 0600, 0, 0, 0));
            assertEquals(31, made.size());
            assertEquals(0, fs.statfs().freeInodes());
            var snapshot = FsSnapshot.of(fs);
            long freeBlocks = fs.statfs().freeBlocks();

            for (var op : List.<Runnable>of(
                    () -> fs.create(ROOT, "one-more", 0644, 0, 0),
                    () -> fs.mkdir(d, "dir", 0755, 0, 0),
                    () -> fs.symlink(ROOT, "ln", "x", 0, 0),
                    () -> fs.mknod(d, "p", FileMode.S_IFIFO | 0600, 0, 0, 0))) {
                FsException e = assertThrows(FsException.class, op::run);
                assertEquals(Errno.ENOSPC, e.errno(), e.getMessage());
            }
            assertEquals(snapshot, FsSnapshot.of(fs), "failed creates left names behind");
            assertEquals(freeBlocks, fs.statfs().freeBlocks(), "failed creates left blocks allocated");
            // Hard links need no inode.
            fs.link(made.get(1), ROOT, "hard");
            FsSnapshot.assertSpaceAccounted(fs);

            // Freeing one inode makes room for exactly one.
            fs.unlink(d, "f7");
            long again = fs.create(ROOT, "one-more", 0644, 0, 0);
            assertTrue(again >= 2 && again <= 32);
            assertEquals(Errno.ENOSPC, assertThrows(FsException.class,
                    () -> fs.create(ROOT, "two-more", 0644, 0, 0)).errno());

            DaxFileSystem re = dev.remount();
            assertEquals(0, re.statfs().freeInodes());
            FsSnapshot.assertSpaceAccounted(re);
            assertEquals(Errno.ENOSPC, assertThrows(FsException.class,
                    () -> re.create(ROOT, "two-more", 0644, 0, 0)).errno());
        }
    }

    @Test
    void directoryGrowthFailsCleanlyWhenNoBlockIsLeft() {
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            DaxFileSystem fs = dev.fs();
            long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
            long filler = fs.create(ROOT, "filler", 0644, 0, 0);
            // Use every block.
            int n = (int) fs.statfs().freeBlocks();
            byte[] zeros = new byte[n * B];
            fs.write(filler, 0, MemorySegment.ofArray(zeros), 0, zeros.length);
            assertEquals(0, fs.statfs().freeBlocks());
            // The first entry of d needs a directory block: none left.
            long inodes = fs.statfs().freeInodes();
            FsException e = assertThrows(FsException.class, () -> fs.create(d, "x", 0644, 0, 0));
            assertEquals(Errno.ENOSPC, e.errno());
            assertEquals(inodes, fs.statfs().freeInodes(), "the inode reserved for the failed create came back");
            assertEquals(2, fs.readdir(d).size());
            assertEquals(Errno.ENOSPC, assertThrows(FsException.class, () -> fs.symlink(ROOT, "s", "t", 0, 0)).errno());
            FsSnapshot.assertSpaceAccounted(fs);
            fs.truncate(filler, 0);
            fs.create(d, "x", 0644, 0, 0);
            FsSnapshot.assertSpaceAccounted(dev.remount());
        }
    }
}
