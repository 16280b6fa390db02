package io.daxfs.core.inspect;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.FsCoreDevice;
import io.daxfs.core.TestDevice;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the operator tools read from a device agrees with the mounted file system. */
@FsCoreDevice(mib = 64)
class InspectionTest {
    TestDevice dev;
    DaxFileSystem fs;

    @Test
    void countsAgreeWithStatfsAndTheTree() {
        long dir = fs.mkdir(DaxFileSystem.ROOT, "d", 0755, 0, 0);
        long big = fs.create(dir, "big", 0644, 0, 0);
        TestDevice.write(fs, big, 0, new byte[3 << 20]);
        long small = fs.create(DaxFileSystem.ROOT, "small", 0644, 0, 0);
        TestDevice.write(fs, small, 0, new byte[100]);
        fs.symlink(DaxFileSystem.ROOT, "link", "d/big", 0, 0);
        fs.setxattr(small, "user.k", new byte[5000], 0);

        Inspection in = Inspection.of(dev.region().readView());
        FsStats st = fs.statfs();
        InodeUsage inodes = in.inodes();
        assertEquals(st.totalInodes() - st.freeInodes(), inodes.used());
        assertEquals(2, inodes.directories());
        assertEquals(2, inodes.regularFiles());
        assertEquals(1, inodes.symlinks());
        BlockUsage blocks = in.blocks();
        assertEquals(st.totalBlocks(), blocks.dataTotal());
        assertEquals(st.freeBlocks(), blocks.dataFree());
        assertEquals(in.geometry().dataStart(), blocks.metadata());

        FreeSpaceHistogram h = in.freeSpace();
        assertEquals(blocks.dataFree(), h.totalBlocks());
        assertEquals(h.totalBlocks(), h.bins().stream().mapToLong(FreeSpaceHistogram.Bin::blocks).sum());
        assertEquals(h.totalExtents(), h.bins().stream().mapToLong(FreeSpaceHistogram.Bin::extents).sum());

        Map<Long, Long> owned = new HashMap<>();
        List<OwnerKind> kinds = new ArrayList<>();
        in.forEachOwnedExtent((ino, kind, start, length) -> {
            owned.merge(ino, length, Long::sum);
            kinds.add(kind);
        });
        in.forEachInode((ino, mode, size, b) -> assertEquals(b, owned.getOrDefault(ino, 0L), "inode " + ino));
        assertEquals(blocks.dataUsed(), owned.values().stream().mapToLong(Long::longValue).sum());
        assertTrue(kinds.containsAll(List.of(OwnerKind.FILE_DATA, OwnerKind.DIRECTORY, OwnerKind.SYMLINK,
                OwnerKind.XATTR)));
        assertEquals(Map.of(big, "/d/big", small, "/small"), in.pathsOf(Set.of(big, small)));
        assertTrue(in.superblockCopiesAgree());
        assertEquals(List.of(), in.problems());

        JournalState j = in.journal();
        assertTrue(j.headerValid());
        assertFalse(j.pending());
        assertEquals(0, j.orphans());
        assertTrue(j.appliedSeq() > 0);
    }

    @Test
    void freeExtentsAreMaximalRunsOfTheBitmap() {
        long[] files = new long[6];
        for (int i = 0; i < files.length; i++) {
            files[i] = fs.create(DaxFileSystem.ROOT, "f" + i, 0644, 0, 0);
            TestDevice.write(fs, files[i], 0, new byte[64 << 10]);
        }
        fs.unlink(DaxFileSystem.ROOT, "f1");
        fs.unlink(DaxFileSystem.ROOT, "f3");
        Inspection in = Inspection.of(dev.region().readView());
        List<long[]> runs = new ArrayList<>();
        in.forEachFreeExtent((start, length) -> runs.add(new long[] {start, length}));
        for (int i = 1; i < runs.size(); i++) {
            long prevEnd = runs.get(i - 1)[0] + runs.get(i - 1)[1];
            assertTrue(runs.get(i)[0] > prevEnd, "runs are sorted and separated by used blocks");
        }
        long last = runs.getLast()[0] + runs.getLast()[1];
        assertEquals(in.geometry().totalBlocks(), last, "the tail of the device is free");
        assertTrue(runs.size() >= 3, "two holes and the tail: " + runs.size());
    }

    @Test
    void alignedChunksCountOnlyWhole2MiBPieces() {
        FreeSpaceHistogram h = new FreeSpaceHistogram();
        h.add(1, 511); // ends on a boundary but does not start on one: no chunk
        h.add(512, 512); // exactly one
        h.add(1000, 2000); // 1024..2559: two whole chunks (1024, 1536), 2048..2559 is a third
        h.add(5000, 1);
        assertEquals(4, h.alignedChunks());
        assertEquals(4 * 512, h.alignedBlocks());
        assertEquals(2000, h.largestExtent());
        List<FreeSpaceHistogram.Bin> bins = h.bins();
        assertEquals(new FreeSpaceHistogram.Bin(1, 1, 1, 1), bins.get(0));
        assertEquals(new FreeSpaceHistogram.Bin(256, 511, 1, 511), bins.get(1));
        assertEquals(new FreeSpaceHistogram.Bin(512, 1023, 1, 512), bins.get(2));
        assertEquals(new FreeSpaceHistogram.Bin(1024, 2047, 1, 2000), bins.get(3));
    }

    @Test
    void aCommittedTransactionIsReportedNotReplayed() {
        fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        Geometry g = fs.superblock().geometry();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(dev.region().size(), 4096);
            copy.copyFrom(dev.region().readView());
            // appliedSeq back by one: the transaction in the slot becomes pending again
            long header = g.journalOffset();
            long applied = copy.get(io.daxfs.devdax.MediaOrder.LONG, header + 8);
            copy.set(io.daxfs.devdax.MediaOrder.LONG, header + 8, applied - 1);
            MemorySegment before = arena.allocate(copy.byteSize(), 4096);
            before.copyFrom(copy);
            JournalState j = Inspection.of(copy).journal();
            assertTrue(j.pending());
            assertEquals(applied, j.pendingSeq());
            assertTrue(j.pendingRecords() > 0);
            assertEquals(-1, before.mismatch(copy), "nothing was written");
        }
    }

    @Test
    void aDamagedSuperblockIsOneClearReason() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(dev.region().size(), 4096);
            copy.copyFrom(dev.region().readView());
            copy.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 20, (byte) 0x5a);
            Inspection in = Inspection.of(copy); // the backup copy still reads
            assertFalse(in.superblockCopiesAgree());
            copy.set(java.lang.foreign.ValueLayout.JAVA_BYTE, Geometry.BLOCK_SIZE + 20, (byte) 0x5a);
            CorruptFileSystemException e = assertThrows(CorruptFileSystemException.class, () -> Inspection.of(copy));
            assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        }
    }
}
