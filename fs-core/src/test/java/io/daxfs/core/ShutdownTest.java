package io.daxfs.core;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.Arrays;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.readAll;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FS_IOC_SHUTDOWN in fs-core ({@link DaxFileSystem#shutDown}): every change after it fails
 * with EIO and not one byte of the device changes; the next mount recovers as after a power
 * cut at the instant of the shutdown - everything completed before is there, an unlinked file
 * still open then is freed, fsck is clean.
 */
class ShutdownTest {
    private static final int B = Geometry.BLOCK_SIZE;
    private final TestDevice dev = TestDevice.create(64 * MIB);

    @AfterEach
    void close() {
        dev.close();
    }

    @Test
    void afterShutdownEveryChangeFailsWithEioAndNothingIsWrittenThenTheNextMountRecovers() {
        DaxFileSystem fs = dev.fs();
        long dir = fs.mkdir(ROOT, "d", 0755, 0, 0);
        long kept = fs.create(dir, "kept", 0644, 0, 0);
        byte[] content = pattern(7, 0, 3 * B + 100);
        write(fs, kept, 0, content);
        fs.fsync(kept);
        long orphan = fs.createOpen(dir, "open-unlinked", 0644, 0, 0);
        write(fs, orphan, 0, pattern(8, 0, 5 * B));
        fs.unlink(dir, "open-unlinked");
        long freeBlocksBefore = fs.statfs().freeBlocks();

        fs.control().shutDown("test");
        assertTrue(fs.control().isShutDown());
        byte[] device = dev.imageBytes();
        expectEio(() -> fs.create(dir, "new", 0644, 0, 0), "create");
        expectEio(() -> fs.mkdir(ROOT, "e", 0755, 0, 0), "mkdir");
        expectEio(() -> write(fs, kept, 0, new byte[] {1, 2, 3}), "write");
        expectEio(() -> fs.truncate(kept, 0), "truncate");
        expectEio(() -> fs.unlink(dir, "kept"), "unlink");
        expectEio(() -> fs.rename(dir, "kept", ROOT, "moved"), "rename");
        expectEio(() -> fs.chmod(kept, 0600), "chmod");
        expectEio(() -> fs.setTimes(kept, new Timestamp(1, 0), new Timestamp(2, 0), false), "utimes");
        expectEio(() -> fs.fallocate(kept, 0, 64 * B, false), "fallocate");
        expectEio(() -> fs.release(orphan), "the last close of an unlinked file (it would free it)");
        assertArrayEquals(content, readAll(fs, kept), "reads go on in fs-core (the front end refuses them)");
        fs.control().shutDown("again"); // a second shutdown does nothing
        assertTrue(Arrays.equals(device, dev.imageBytes()), "not one byte of the device changed after the shutdown");

        DaxFileSystem again = dev.remount();
        assertFalse(again.control().isShutDown(), "a new mount is not shut down");
        assertArrayEquals(content, readAll(again, again.resolve("/d/kept")));
        assertEquals(freeBlocksBefore + 5, again.statfs().freeBlocks(), "the open unlinked file was freed at mount");
        FsckSupport.assertClean(dev.region().readView(), "after the shutdown and a new mount");
        again.create(again.resolve("/d"), "new", 0644, 0, 0); // and it changes again
    }

    private static void expectEio(Executable change, String what) {
        FsException e = assertThrows(FsException.class, change, what);
        assertEquals(Errno.EIO, e.errno(), what + ": " + e.getMessage());
    }
}
