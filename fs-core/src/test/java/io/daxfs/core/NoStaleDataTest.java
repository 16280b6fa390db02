package io.daxfs.core;

import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.readAll;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Freed blocks are reused without their old content ever becoming visible: every byte of a
 * new file that was not written reads zero, never a byte of a deleted file.
 */
class NoStaleDataTest {
    private static final int B = Geometry.BLOCK_SIZE;
    private static final byte OLD = (byte) 0xAA;

    @Test
    void newFileNeverShowsBytesOfADeletedFile() {
        long seed = TestDevice.seed("NoStaleDataTest");
        Random rnd = new Random(seed);
        try (TestDevice dev = TestDevice.create(32 * MIB)) {
            DaxFileSystem fs = dev.fs();
            long a = fs.create(ROOT, "A", 0644, 0, 0);
            // A fills almost all free space, so B can only get blocks A had.
            long blocks = fs.statfs().freeBlocks() - 8;
            byte[] chunk = new byte[256 * B];
            Arrays.fill(chunk, OLD);
            long off = 0;
            while (off < blocks * B) {
                int n = (int) Math.min(chunk.length, blocks * B - off);
                fs.write(a, off, java.lang.foreign.MemorySegment.ofArray(chunk), 0, n);
                off += n;
            }
            fs.fsync(a);
            fs.unlink(ROOT, "A");

            long b = fs.create(ROOT, "B", 0644, 0, 0);
            int span = (int) (blocks * B / 2);
            byte[] model = new byte[span + 4 * B];
            int size = 0;
            for (int i = 0; i < 400; i++) {
                int at = rnd.nextInt(span);
                byte[] data = new byte[1 + rnd.nextInt(rnd.nextBoolean() ? 20 : 2 * B)];
                for (int k = 0; k < data.length; k++) {
                    data[k] = (byte) (1 + rnd.nextInt(0x7f)); // never 0, never 0xAA
                }
                write(fs, b, at, data);
                System.arraycopy(data, 0, model, at, data.length);
                size = Math.max(size, at + data.length);
                if (i % 50 == 49) {
                    // Cut mid-block and grow again by truncate.
                    int cut = rnd.nextInt(size);
                    fs.truncate(b, cut);
                    Arrays.fill(model, cut, size, (byte) 0);
                    int grow = Math.min(model.length, cut + rnd.nextInt(3 * B));
                    fs.truncate(b, grow);
                    size = grow;
                }
            }
            int extended = model.length;
            fs.truncate(b, extended);
            size = extended;
            check(fs, b, model, size, seed);
            fs = dev.remount();
            check(fs, b, model, size, seed);
            assertTrue(fs.getattr(b).blocks512() > 0);
        }
    }

    private static void check(DaxFileSystem fs, long ino, byte[] model, int size, long seed) {
        byte[] got = readAll(fs, ino);
        assertEquals(size, got.length);
        for (int i = 0; i < size; i++) {
            if (got[i] == OLD) {
                fail("byte " + i + " of the new file shows the deleted file's 0xAA (seed " + seed + ")");
            }
            if (got[i] != model[i]) {
                fail("byte " + i + " reads " + got[i] + ", expected " + model[i] + " (seed " + seed + ")");
            }
        }
    }

    @Test
    void symlinkAndDirectoryBlocksDoNotShowOldBytes() {
        try (TestDevice dev = TestDevice.create(16 * MIB)) {
            DaxFileSystem fs = dev.fs();
            long a = fs.create(ROOT, "A", 0644, 0, 0);
            long blocks = fs.statfs().freeBlocks() - 4;
            byte[] junk = new byte[(int) blocks * B];
            Arrays.fill(junk, OLD);
            write(fs, a, 0, junk);
            fs.unlink(ROOT, "A");
            long d = fs.mkdir(ROOT, "dir", 0755, 0, 0);
            for (int i = 0; i < 200; i++) {
                fs.create(d, "name-" + i, 0644, 0, 0);
            }
            long s = fs.symlink(ROOT, "ln", "target", 0, 0);
            assertEquals("target", fs.readlink(s));
            fs = dev.remount();
            assertEquals(202, fs.readdir(fs.resolve("/dir")).size());
            assertEquals("target", fs.readlink(fs.resolve("/ln")));
        }
    }
}
