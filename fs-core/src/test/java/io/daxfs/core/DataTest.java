package io.daxfs.core;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.NamespaceTest.assertErrno;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.read;
import static io.daxfs.core.TestDevice.readAll;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** File contents: read/write/truncate against a model, holes, EOF, large and fragmented files. */
@FsCoreDevice(mib = 64, after = FsCoreDevice.Check.SPACE_AND_FSCK)
class DataTest {
    private static final int B = Geometry.BLOCK_SIZE;
    private TestDevice dev;
    private DaxFileSystem fs;

    /** The file's content must equal model[0, size). */
    private void assertContent(long ino, byte[] model, long size, String when) {
        assertEquals(size, fs.getattr(ino).size(), "size " + when);
        byte[] got = readAll(fs, ino);
        if (!Arrays.equals(Arrays.copyOf(model, (int) size), got)) {
            int i = Arrays.mismatch(Arrays.copyOf(model, (int) size), got);
            fail("content differs " + when + " first at byte " + i + ": expected " + model[i] + " got " + got[i]);
        }
    }

    @Test
    void randomWritesReadsAndTruncatesMatchModel() {
        long seed = TestDevice.seed("DataTest.randomWritesReadsAndTruncatesMatchModel");
        Random rnd = new Random(seed);
        int max = 3 * (int) MIB;
        byte[] model = new byte[max + 64 * B];
        long size = 0;
        long ino = fs.create(ROOT, "model", 0644, 0, 0);
        for (int op = 0; op < 3000; op++) {
            int kind = rnd.nextInt(100);
            String what = "op " + op + " (seed " + seed + ")";
            if (kind < 55) {
                long off = rnd.nextInt(max);
                int len = rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(64 * B) : 1 + rnd.nextInt(3 * B);
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                write(fs, ino, off, data);
                System.arraycopy(data, 0, model, (int) off, len);
                size = Math.max(size, off + len);
            } else if (kind < 90) {
                long off = rnd.nextInt((int) size + 2 * B + 1);
                int len = rnd.nextInt(4 * B);
                byte[] got = read(fs, ino, off, len);
                int expect = (int) Math.max(0, Math.min(len, size - off));
                assertEquals(expect, got.length, "read length, " + what);
                assertArrayEquals(Arrays.copyOfRange(model, (int) off, (int) off + expect), got, what);
            } else if (kind < 98) {
                long newSize = rnd.nextBoolean() ? rnd.nextInt((int) size + 1) : rnd.nextInt(max);
                fs.truncate(ino, newSize);
                if (newSize < size) {
                    Arrays.fill(model, (int) newSize, (int) size, (byte) 0);
                }
                size = newSize;
                assertEquals(size, fs.getattr(ino).size(), what);
            } else {
                fs = dev.remount();
                assertContent(ino, model, size, "after remount, " + what);
            }
        }
        assertContent(ino, model, size, "at the end (seed " + seed + ")");
        FsSnapshot.assertSpaceAccounted(fs);
        fs = dev.remount();
        assertContent(ino, model, size, "after the final remount (seed " + seed + ")");
    }

    @Test
    void unalignedWriteSpanningBlocks() {
        long ino = fs.create(ROOT, "f", 0644, 0, 0);
        byte[] data = pattern(7, 0, 3 * B + 100);
        write(fs, ino, B - 50, data); // touches 5 blocks: 1 partial, 3 whole, 1 partial
        assertEquals(B - 50 + data.length, fs.getattr(ino).size());
        assertEquals(5 * 8, fs.getattr(ino).blocks512());
        byte[] all = readAll(fs, ino);
        for (int i = 0; i < B - 50; i++) {
            assertEquals(0, all[i], "the unwritten head of the first block reads zero");
        }
        assertArrayEquals(data, Arrays.copyOfRange(all, B - 50, all.length));
        // Overwrite across the block boundaries in place.
        byte[] patch = pattern(8, 0, B + 2);
        write(fs, ino, 2 * B - 1, patch);
        System.arraycopy(patch, 0, all, 2 * B - 1, patch.length);
        assertArrayEquals(all, readAll(fs, ino));
        assertEquals(5 * 8, fs.getattr(ino).blocks512(), "overwrite allocated nothing");
        // Reads at odd offsets and lengths.
        assertArrayEquals(Arrays.copyOfRange(all, 4095, 4097), read(fs, ino, 4095, 2));
        assertArrayEquals(Arrays.copyOfRange(all, 3, 3 * B + 7), read(fs, ino, 3, 3 * B + 4));
    }

    @Test
    void writePastEndLeavesZeroGapAndHolesReadZero() {
        long ino = fs.create(ROOT, "sparse", 0644, 0, 0);
        write(fs, ino, 0, pattern(1, 0, 100));
        long free = fs.statfs().freeBlocks();
        write(fs, ino, 10 * MIB + 123, pattern(2, 0, 10));
        assertEquals(10 * MIB + 133, fs.getattr(ino).size());
        assertEquals(free - 1, fs.statfs().freeBlocks(), "the gap is a hole: one block for the new data");
        assertEquals(2 * 8, fs.getattr(ino).blocks512());
        byte[] all = readAll(fs, ino);
        assertArrayEquals(pattern(1, 0, 100), Arrays.copyOf(all, 100));
        for (int i = 100; i < 10 * MIB + 123; i++) {
            if (all[i] != 0) {
                fail("gap byte " + i + " is " + all[i]);
            }
        }
        assertArrayEquals(pattern(2, 0, 10), Arrays.copyOfRange(all, (int) (10 * MIB + 123), all.length));
        // A hole in the middle of a read, between two mapped blocks.
        write(fs, ino, 3 * B, new byte[] {9});
        byte[] mid = read(fs, ino, 50, 4 * B);
        assertArrayEquals(Arrays.copyOfRange(pattern(1, 0, 100), 50, 100), Arrays.copyOf(mid, 50));
        for (int i = 50; i < 4 * B; i++) {
            assertEquals(i == 3 * B - 50 ? 9 : 0, mid[i], "byte " + (i + 50));
        }
    }

    @Test
    void readsAtAndPastEndOfFile() {
        long ino = fs.create(ROOT, "f", 0644, 0, 0);
        assertEquals(0, fs.read(ino, 0, MemorySegment.ofArray(new byte[10]), 0, 10), "empty file");
        write(fs, ino, 0, pattern(3, 0, 5000));
        byte[] buf = new byte[100];
        assertEquals(0, fs.read(ino, 5000, MemorySegment.ofArray(buf), 0, 100));
        assertEquals(0, fs.read(ino, 1L << 40, MemorySegment.ofArray(buf), 0, 100));
        assertEquals(0, fs.read(ino, 10, MemorySegment.ofArray(buf), 0, 0), "zero length");
        assertEquals(40, fs.read(ino, 4960, MemorySegment.ofArray(buf), 0, 100), "short read at EOF");
        assertArrayEquals(pattern(3, 4960, 40), Arrays.copyOf(buf, 40));
        // Reading into the middle of a destination segment.
        byte[] dst = new byte[30];
        assertEquals(10, fs.read(ino, 100, MemorySegment.ofArray(dst), 20, 10));
        assertArrayEquals(pattern(3, 100, 10), Arrays.copyOfRange(dst, 20, 30));
        assertErrno(Errno.EINVAL, () -> fs.read(ino, -1, MemorySegment.ofArray(buf), 0, 1));
        assertErrno(Errno.EINVAL, () -> fs.write(ino, -1, MemorySegment.ofArray(buf), 0, 1));
        assertEquals(0, fs.write(ino, 10, MemorySegment.ofArray(buf), 0, 0), "zero-length write");
        assertEquals(5000, fs.getattr(ino).size());
        // Writing from the middle of a source segment.
        byte[] src = pattern(4, 0, 64);
        assertEquals(16, fs.write(ino, 5000, MemorySegment.ofArray(src), 48, 16));
        assertArrayEquals(Arrays.copyOfRange(src, 48, 64), read(fs, ino, 5000, 100));
    }

    @Test
    void truncateDownThenUpReadsZeros() {
        long ino = fs.create(ROOT, "t", 0644, 0, 0);
        long free = fs.statfs().freeBlocks();
        byte[] data = pattern(5, 0, 10 * B);
        write(fs, ino, 0, data);
        // Cut mid-block: the block stays mapped and keeps old bytes beyond the new end.
        fs.truncate(ino, 3 * B + 1000);
        assertEquals(3 * B + 1000, fs.getattr(ino).size());
        assertEquals(free - 4, fs.statfs().freeBlocks(), "blocks past the new end are freed");
        assertEquals(4 * 8, fs.getattr(ino).blocks512());
        fs.truncate(ino, 10 * B);
        byte[] all = readAll(fs, ino);
        assertArrayEquals(Arrays.copyOf(data, 3 * B + 1000), Arrays.copyOf(all, 3 * B + 1000));
        for (int i = 3 * B + 1000; i < 10 * B; i++) {
            if (all[i] != 0) {
                fail("byte " + i + " past the cut reads " + all[i] + " after growing again");
            }
        }
        // Growing by truncate allocates nothing.
        assertEquals(free - 4, fs.statfs().freeBlocks());

        // Cut mid-block, then write beyond the cut inside the same block: the gap reads zero.
        write(fs, ino, 0, data);
        fs.truncate(ino, 5 * B + 7);
        write(fs, ino, 5 * B + 3000, new byte[] {42});
        byte[] after = read(fs, ino, 5 * B, B);
        assertEquals(3001, after.length);
        assertArrayEquals(Arrays.copyOfRange(data, 5 * B, 5 * B + 7), Arrays.copyOf(after, 7));
        for (int i = 7; i < 3000; i++) {
            assertEquals(0, after[i], "byte " + (5 * B + i));
        }
        assertEquals(42, after[3000]);

        // Cut mid-block, then write past EOF into a later block: the tail of the cut block reads zero.
        write(fs, ino, 0, data);
        fs.truncate(ino, 2 * B + 5);
        write(fs, ino, 8 * B, new byte[] {1});
        byte[] whole = readAll(fs, ino);
        assertArrayEquals(Arrays.copyOf(data, 2 * B + 5), Arrays.copyOf(whole, 2 * B + 5));
        for (int i = 2 * B + 5; i < 8 * B; i++) {
            if (whole[i] != 0) {
                fail("byte " + i + " reads " + whole[i]);
            }
        }
        fs = dev.remount();
        assertArrayEquals(whole, readAll(fs, ino));
    }

    @Test
    void truncateToZeroFreesEverything() {
        long ino = fs.create(ROOT, "z", 0644, 0, 0);
        long free = fs.statfs().freeBlocks();
        write(fs, ino, 0, pattern(6, 0, 300 * B + 17));
        write(fs, ino, 2 * MIB, pattern(6, 0, 17)); // second extent
        fs.truncate(ino, 0);
        assertEquals(0, fs.getattr(ino).size());
        assertEquals(0, fs.getattr(ino).blocks512());
        assertEquals(free, fs.statfs().freeBlocks());
        assertEquals(0, read(fs, ino, 0, 10).length);
        fs.truncate(ino, 0); // again: nothing to do
        fs.truncate(ino, 5000);
        assertArrayEquals(new byte[5000], readAll(fs, ino));
        fs = dev.remount();
        assertEquals(5000, fs.getattr(ino).size());
        assertEquals(free, fs.statfs().freeBlocks());
        assertArrayEquals(new byte[5000], readAll(fs, ino));
    }

    @Test
    void fileOfSeveralMiB() {
        long ino = fs.create(ROOT, "big", 0644, 0, 0);
        long free = fs.statfs().freeBlocks();
        int chunk = (int) MIB + 13;
        long size = 0;
        for (int i = 0; i < 12; i++) {
            write(fs, ino, size, pattern(11, size, chunk));
            size += chunk;
        }
        assertEquals(size, fs.getattr(ino).size());
        long blocks = Geometry.divUp(size, B);
        assertEquals(free - blocks, fs.statfs().freeBlocks());
        assertEquals(blocks * 8, fs.getattr(ino).blocks512());
        byte[] all = readAll(fs, ino);
        assertArrayEquals(pattern(11, 0, (int) size), all);
        fs = dev.remount();
        assertEquals(FsSnapshot.crc(fs, ino, size), crc(pattern(11, 0, (int) size)));
        fs.unlink(ROOT, "big");
        assertEquals(free + 1, fs.statfs().freeBlocks(), "the emptied root's block is freed too");
    }

    private static long crc(byte[] b) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(b);
        return c.getValue();
    }

    /**
     * Every other block of a 40 MiB range: thousands of one-block extents, so the extent map
     * spills from the 7 inline slots into a chain of overflow blocks.
     */
    @Test
    void thousandsOfExtentsUseOverflowBlocks() {
        long ino = fs.create(ROOT, "frag", 0644, 0, 0);
        long free = fs.statfs().freeBlocks();
        int range = (int) (40 * MIB / B);
        int extents = range / 2;
        for (int b = 0; b < range; b += 2) {
            write(fs, ino, (long) b * B, pattern(b, 0, B));
        }
        long overflow = Geometry.divUp(extents - 7, io.daxfs.core.inode.ExtentSlots.SLOTS_PER_OVERFLOW_BLOCK);
        assertTrue(overflow >= 19, "expected a long overflow chain, got " + overflow);
        assertEquals(free - extents - overflow, fs.statfs().freeBlocks(), "data blocks plus overflow blocks");
        assertEquals((extents + overflow) * 8, fs.getattr(ino).blocks512());
        assertEquals((long) (range - 1) * B, fs.getattr(ino).size());
        verifyFragmented(ino, range);

        fs = dev.remount();
        verifyFragmented(ino, range);
        assertEquals(free - extents - overflow, fs.statfs().freeBlocks());
        FsSnapshot.assertSpaceAccounted(fs);

        // Truncate to the middle, then to zero.
        fs.truncate(ino, (long) (range / 2) * B + 100);
        assertEquals((long) (range / 2) * B + 100, fs.getattr(ino).size());
        verifyFragmented(ino, range);
        fs = dev.remount();
        assertEquals((long) (range / 2) * B + 100, fs.getattr(ino).size());
        verifyFragmented(ino, range);
        FsSnapshot.assertSpaceAccounted(fs);
        fs.truncate(ino, 0);
        assertEquals(0, fs.getattr(ino).blocks512());
        assertEquals(free, fs.statfs().freeBlocks(), "data and overflow blocks all came back");
        fs = dev.remount();
        assertEquals(free, fs.statfs().freeBlocks());
    }

    @Test
    void unlinkOfFileWithThousandsOfExtents() {
        long ino = fs.create(ROOT, "frag", 0644, 0, 0);
        long free = fs.statfs().freeBlocks();
        long inodes = fs.statfs().freeInodes();
        int range = (int) (40 * MIB / B);
        for (int b = 1; b < range; b += 2) {
            write(fs, ino, (long) b * B + 5, new byte[] {(byte) b});
        }
        assertTrue(fs.statfs().freeBlocks() < free - range / 2);
        fs = dev.remount();
        fs.unlink(ROOT, "frag");
        assertEquals(free + 1, fs.statfs().freeBlocks(), "the emptied root's block is freed too");
        assertEquals(inodes + 1, fs.statfs().freeInodes());
        fs = dev.remount();
        assertEquals(free + 1, fs.statfs().freeBlocks());
        assertEquals(inodes + 1, fs.statfs().freeInodes());
    }

    /** Up to the file size, blocks 0, 2, 4... hold pattern(b) and the others read zero. */
    private void verifyFragmented(long ino, int range) {
        long size = fs.getattr(ino).size();
        byte[] buf = new byte[B];
        for (int b = 0; (long) b * B < size; b++) {
            int n = fs.read(ino, (long) b * B, MemorySegment.ofArray(buf), 0, B);
            int expectLen = (int) Math.min(B, size - (long) b * B);
            assertEquals(expectLen, n);
            byte[] expect = b % 2 == 0 ? pattern(b, 0, expectLen) : new byte[expectLen];
            if (!Arrays.equals(expect, Arrays.copyOf(buf, n))) {
                fail("block " + b + " of " + range + " differs");
            }
        }
    }

    @Test
    void maximumFileSize() {
        long ino = fs.create(ROOT, "huge", 0644, 0, 0);
        long max = DaxFileSystem.MAX_FILE_SIZE;
        byte[] two = {1, 2};
        assertErrno(Errno.EFBIG, () -> fs.write(ino, max - 1, MemorySegment.ofArray(two), 0, 2));
        assertErrno(Errno.EFBIG, () -> fs.write(ino, max, MemorySegment.ofArray(two), 0, 1));
        assertErrno(Errno.EFBIG, () -> fs.write(ino, Long.MAX_VALUE, MemorySegment.ofArray(two), 0, 2));
        assertErrno(Errno.EFBIG, () -> fs.truncate(ino, max + 1));
        assertEquals(0, fs.getattr(ino).size(), "refused calls changed the size");
        assertEquals(0, fs.getattr(ino).blocks512());

        // Exactly up to the limit works: a sparse file with its last byte written.
        long free = fs.statfs().freeBlocks();
        write(fs, ino, max - 1, new byte[] {77});
        assertEquals(max, fs.getattr(ino).size());
        assertEquals(free - 1, fs.statfs().freeBlocks());
        assertArrayEquals(new byte[] {0, 0, 0, 77}, read(fs, ino, max - 4, 100));
        assertArrayEquals(new byte[100], read(fs, ino, 1L << 50, 100));
        fs = dev.remount();
        assertEquals(max, fs.getattr(ino).size());
        assertArrayEquals(new byte[] {77}, read(fs, ino, max - 1, 1));
        fs.truncate(ino, max);
        fs.truncate(ino, 1);
        assertEquals(free, fs.statfs().freeBlocks());
        fs.truncate(ino, max);
        assertEquals(max, fs.getattr(ino).size());
        fs.unlink(ROOT, "huge");
        assertEquals(free + 1, fs.statfs().freeBlocks(), "the emptied root's block is freed too");
    }

    @Test
    void dataCallsOnDirectoryFailWithEISDIR() {
        long d = fs.mkdir(ROOT, "d", 0755, 0, 0);
        byte[] buf = new byte[10];
        assertErrno(Errno.EISDIR, () -> fs.read(d, 0, MemorySegment.ofArray(buf), 0, 10));
        assertErrno(Errno.EISDIR, () -> fs.write(d, 0, MemorySegment.ofArray(buf), 0, 10));
        assertErrno(Errno.EISDIR, () -> fs.truncate(d, 0));
        assertErrno(Errno.EISDIR, () -> fs.read(ROOT, 0, MemorySegment.ofArray(buf), 0, 10));
        assertErrno(Errno.EISDIR, () -> fs.write(ROOT, 0, MemorySegment.ofArray(buf), 0, 10));
        assertErrno(Errno.ENOENT, () -> fs.write(12345, 0, MemorySegment.ofArray(buf), 0, 10));
        assertEquals(2, fs.getattr(d).nlink());
    }

    @Test
    void writeUpdatesTimes() {
        long ino = fs.create(ROOT, "t", 0644, 0, 0);
        fs.setTimes(ino, new Timestamp(1000, 1), new Timestamp(2000, 2), false);
        write(fs, ino, 0, new byte[10]); // allocating write (journaled)
        Attributes a = fs.getattr(ino);
        assertTrue(a.mtimeSec() > 2000, "mtime moved on");
        assertEquals(1000, a.atimeSec());
        fs.setTimes(ino, null, new Timestamp(2000, 2), false);
        write(fs, ino, 5, new byte[3]); // overwrite in place (no transaction)
        assertTrue(fs.getattr(ino).mtimeSec() > 2000);
        assertEquals(1000, fs.getattr(ino).atimeSec());
    }
}
