package io.daxfs.core;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.NamespaceTest.assertErrno;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A file with so many extents that freeing it does not fit one journal transaction: unlink
 * puts it on the orphan list and frees it in several transactions. A crash anywhere in that
 * sequence is finished by the next mount: the name is gone and every block comes back.
 */
class OrphanRecoveryTest {
    private static final int B = Geometry.BLOCK_SIZE;
    /** One-block extents; enough that the free estimate exceeds the ~1 MiB journal slot. */
    private static final int EXTENTS = 20_000;

    /** {@code crashAtCommit}: 0 = no crash, n = stop right after the n-th commit of the unlink is durable. */
    @ParameterizedTest(name = "crash after commit {0} of the unlink")
    @ValueSource(ints = {0, 1, 2, 3})
    void hugeUnlinkIsFinishedByTheNextMount(int crashAtCommit) {
        try (TestDevice dev = TestDevice.create(256 * MIB)) {
            DaxFileSystem fs = dev.fs();
            fs.create(ROOT, "keep", 0644, 0, 0); // the root keeps its block
            FsStats start = fs.statfs();
            long ino = fs.create(ROOT, "huge", 0644, 0, 0);
            for (int i = 0; i < EXTENTS; i++) {
                write(fs, ino, 2L * i * B, new byte[] {(byte) i});
            }
            assertTrue(fs.getattr(ino).blocks512() / 8 > EXTENTS, "overflow blocks counted");
            fs = dev.remount();

            // Several transactions: the orphan path.
            fs = CrashHarness.runCrashingAtCommit(dev, f -> f.unlink(ROOT, "huge"), crashAtCommit, 3);
            DaxFileSystem after = fs;
            assertErrno(Errno.ENOENT, () -> after.lookup(ROOT, "huge"));
            assertEquals(start.freeBlocks(), fs.statfs().freeBlocks(), "every block of the orphan came back");
            assertEquals(start.freeInodes(), fs.statfs().freeInodes(), "the orphan inode was freed");
            FsSnapshot.assertSpaceAccounted(fs);
            FsckSupport.assertClean(dev.region().readView(), "after the unlink, crash at commit " + crashAtCommit);
            fs = dev.remount();
            assertEquals(start.freeBlocks(), fs.statfs().freeBlocks());
            // The freed inode and blocks are usable again.
            long again = fs.create(ROOT, "again", 0644, 0, 0);
            write(fs, again, 0, new byte[3 * B]);
            FsSnapshot.assertSpaceAccounted(fs);
        }
    }
}
