package io.daxfs.core.xattr;

import io.daxfs.core.CrashHarness;
import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.FsSnapshot;
import io.daxfs.core.FsckSupport;
import io.daxfs.core.TestDevice;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A file too large to free in one transaction goes on the orphan list and is freed in several;
 * its attribute blocks go in the last one, also when the next mount finishes the job after a
 * crash.
 */
class XattrOrphanTest {
    private static final int EXTENTS = 20_000;

    @ParameterizedTest(name = "crash after commit {0} of the unlink")
    @ValueSource(ints = {0, 1, 2, 3})
    void anOrphanedFileGivesBackItsAttributeBlocks(int crashAtCommit) {
        try (TestDevice dev = TestDevice.create(256 * MIB)) {
            DaxFileSystem fs = dev.fs();
            fs.create(ROOT, "keep", 0644, 0, 0);
            FsStats start = fs.statfs();
            long ino = fs.create(ROOT, "huge", 0644, 0, 0);
            for (int i = 0; i < EXTENTS; i++) {
                write(fs, ino, 2L * i * Geometry.BLOCK_SIZE, new byte[] {(byte) i});
            }
            for (int i = 0; i < 40; i++) {
                fs.setxattr(ino, "user.v" + i, pattern(i, 0, i % 2 == 0 ? 50 : 20_000), 0);
            }
            fs = dev.remount();

            // Several transactions: the orphan path.
            fs = CrashHarness.runCrashingAtCommit(dev, f -> f.unlink(ROOT, "huge"), crashAtCommit, 3);
            if (crashAtCommit == 0) {
                DaxFileSystem live = fs;
                FsException e = assertThrows(FsException.class, () -> live.getxattr(ino, "user.v0"));
                assertEquals(Errno.ENOENT, e.errno());
            }
            assertEquals(start.freeBlocks(), fs.statfs().freeBlocks(), "every block came back");
            assertEquals(start.freeInodes(), fs.statfs().freeInodes());
            FsSnapshot.assertSpaceAccounted(fs);
            FsckSupport.assertClean(dev.region().readView(), "after the unlink, crash at commit " + crashAtCommit);
            fs = dev.remount();
            assertEquals(start.freeBlocks(), fs.statfs().freeBlocks());
        }
    }
}
