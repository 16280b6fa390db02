package io.daxfs.core;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.readAll;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FITRIM in fs-core ({@link FileSystemControl#trim}): the answer is the free bytes of the range
 * in extents of at least the minimum; the image gives the memory of free blocks back; file
 * contents never change, also while files are written and freed during trims; ext4's argument
 * checks; EROFS on a read-only mount.
 */
class TrimTest {
    private static final int B = Geometry.BLOCK_SIZE;
    private final TestDevice dev = TestDevice.create(64 * MIB);

    @AfterEach
    void close() {
        dev.close();
    }

    private long freeBytes(DaxFileSystem fs) {
        return fs.internals().blockAllocator().freeBlocks() * B;
    }

    private long imageBlocksInUse() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-c", "%b", dev.image().toString()).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor());
        return Long.parseLong(out);
    }

    @Test
    void trimReleasesTheFreeBlocksOfTheRangeAndAnswersTheirBytes() throws Exception {
        DaxFileSystem fs = dev.fs();
        List<Long> files = new ArrayList<>();
        for (int i = 0; i < 200; i++) { // small files: their freed blocks keep their memory (ReleaseBacklog)
            long ino = fs.create(ROOT, "f" + i, 0644, 0, 0);
            write(fs, ino, 0, pattern(i, 0, 2 * B));
            files.add(ino);
        }
        for (int i = 0; i < 200; i += 2) {
            fs.unlink(ROOT, "f" + i);
        }
        long before = imageBlocksInUse();
        long total = fs.superblock().geometry().totalBlocks() * B;

        assertEquals(freeBytes(fs), fs.control().trim(0, total, 0), "a whole-device trim answers every free byte");
        assertTrue(imageBlocksInUse() <= before - 100 * 2 * B / 512, "the freed blocks' memory went back: "
                + before + " -> " + imageBlocksInUse() + " blocks of 512 bytes");
        assertEquals(freeBytes(fs), fs.control().trim(0, -1L, 0), "again, with a length past the end (cut there)");
        for (int i = 1; i < 200; i += 2) {
            assertArrayEquals(pattern(i, 0, 2 * B), readAll(fs, files.get(i)), "f" + i);
        }

        List<Extent> free = fs.internals().blockAllocator().freeExtents();
        long largest = free.stream().mapToLong(Extent::length).max().orElseThrow();
        long second = free.stream().mapToLong(Extent::length).filter(l -> l < largest).max().orElse(0);
        assertEquals(largest * B, fs.control().trim(0, total, second * B + 1), "only extents of the minimum or more");
        assertEquals(0, fs.control().trim(0, total, largest * B + 1));
        Extent first = free.getFirst();
        assertEquals(B, fs.control().trim(first.start() * (long) B, B, 0), "one block of a free extent");
    }

    @Test
    void argumentsAreCheckedAsExt4DoesAndAReadOnlyMountRefuses() {
        DaxFileSystem fs = dev.fs();
        long total = fs.superblock().geometry().totalBlocks() * B;
        expect(Errno.EINVAL, () -> fs.control().trim(total, 1 << 20, 0), "start at the end");
        expect(Errno.EINVAL, () -> fs.control().trim(-1L, 1 << 20, 0), "start 2^64-1");
        expect(Errno.EINVAL, () -> fs.control().trim(0, 0, 0), "length 0 (generic/288)");
        expect(Errno.EINVAL, () -> fs.control().trim(0, 100, 0), "length below a block");
        expect(Errno.EINVAL, () -> fs.control().trim(0, total, total + 1), "minimum past the device");
        assertEquals(0, fs.control().trim(0, 16 * B, 0), "the metadata area has no free blocks");
        dev.unmount();
        DaxFileSystem ro = dev.mount(MountSettings.defaults().withReadOnly(true));
        expect(Errno.EROFS, () -> ro.control().trim(0, total, 0), "read-only");
    }

    @Test
    void trimsRacingWritesAndFreesNeverTouchAnAllocatedBlock() throws Exception {
        DaxFileSystem fs = dev.fs();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong trims = new AtomicLong();
        long total = fs.superblock().geometry().totalBlocks() * B;
        Thread trimmer = new Thread(() -> {
            while (!stop.get()) {
                fs.control().trim(0, total, 0);
                trims.incrementAndGet();
            }
        });
        trimmer.start();
        try {
            for (int round = 0; round < 60; round++) {
                for (int i = 0; i < 20; i++) {
                    long ino = fs.create(ROOT, "r" + round + "-" + i, 0644, 0, 0);
                    write(fs, ino, 0, pattern(round * 100 + i, 0, (1 + i % 5) * B + i));
                }
                for (int i = 0; i < 20; i++) {
                    String name = "r" + round + "-" + i;
                    assertArrayEquals(pattern(round * 100 + i, 0, (1 + i % 5) * B + i),
                            readAll(fs, fs.lookup(ROOT, name)), name);
                    if (i % 2 == 0) {
                        fs.unlink(ROOT, name);
                    }
                }
            }
        } finally {
            stop.set(true);
            trimmer.join();
        }
        assertTrue(trims.get() > 0);
        for (int round = 0; round < 60; round++) {
            for (int i = 1; i < 20; i += 2) {
                String name = "r" + round + "-" + i;
                assertArrayEquals(pattern(round * 100 + i, 0, (1 + i % 5) * B + i), readAll(fs, fs.lookup(ROOT, name)),
                        name + " after " + trims.get() + " trims");
            }
        }
        FsckSupport.assertClean(dev.region().readView(), "after trims");
    }

    private static void expect(Errno errno, org.junit.jupiter.api.function.Executable call, String what) {
        FsException e = assertThrows(FsException.class, call, what);
        assertEquals(errno, e.errno(), what + ": " + e.getMessage());
    }
}
