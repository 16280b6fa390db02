package io.daxfs.core;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentSlots;
import io.daxfs.core.inode.InodeLayout;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.ValueLayout;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.read;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A damaged inode whose extent points into the metadata area ("0+204": the superblock,
 * journal, bitmaps and inode table). Every operation that would free or zero those blocks
 * fails with EUCLEAN before it changes anything: no byte outside the data area changes, the
 * file keeps its name and the other files their data. (Before the one freeing path checked
 * extents first, the busy list's release punched the range and wiped the superblock.)
 *
 * <p>Format 2 catches this damage earlier, when the inode and its map are first read (the
 * inode fails its checksum, the extent lies outside the data area: {@code DamagedImageTest}).
 * Here that verification is switched off ({@code Safeguards.verifyOnRead}) and the mount is
 * quick with {@code errors=continue}, so the freeing path's own check is what is shown.
 */
class CorruptExtentTest {
    private static final int B = Geometry.BLOCK_SIZE;
    private TestDevice dev;
    private DaxFileSystem fs;
    private long damaged;
    private long healthy;
    private long metadataBytes;

    @BeforeEach
    void setUp() {
        dev = TestDevice.create(32 * MIB);
        fs = dev.fs();
        damaged = fs.create(ROOT, "damaged", 0644, 0, 0);
        write(fs, damaged, 0, pattern(1, 0, 8 * B));
        healthy = fs.create(ROOT, "healthy", 0644, 0, 0);
        write(fs, healthy, 0, pattern(2, 0, 8 * B));
        Geometry g = fs.superblock().geometry();
        metadataBytes = g.dataStart() * (long) B;
        // The damage: inline slot 0 of "damaged" now maps its first 204 blocks at block 0.
        long slot = g.inodeOffset(damaged) + InodeLayout.INLINE_SLOTS;
        dev.region().putLong(slot, 0);
        dev.region().putLong(slot + 8, ExtentSlots.packPhysical(0, 204));
        dev.region().flush(slot, 16);
        fs = dev.remount(SETTINGS); // the map is read from the damaged inode
        fs.internals().safeguards().verifyOnRead = false;
    }

    private static final MountSettings SETTINGS = MountSettings.defaults()
            .withCheck(MountSettings.Check.QUICK).withErrors(MountSettings.Errors.CONTINUE);

    @AfterEach
    void tearDown() {
        dev.close();
    }

    /** The metadata area but the journal header, where the damage is recorded (the error state). */
    private byte[] metadataArea() {
        byte[] all = dev.region().readView().asSlice(0, metadataBytes).toArray(ValueLayout.JAVA_BYTE);
        long header = fs.superblock().geometry().journalOffset();
        java.util.Arrays.fill(all, (int) header, (int) header + B, (byte) 0);
        return all;
    }

    /** {@code op} fails with EUCLEAN and leaves the metadata area and the healthy file as they were. */
    private void failsCleanly(Executable op) {
        byte[] before = metadataArea();
        FsException e = assertThrows(FsException.class, op);
        assertEquals(Errno.EUCLEAN, e.errno(), e.getMessage());
        assertTrue(fs.internals().journal().errors().findings() > 0, "the damage was reported");
        assertEquals(0, fs.internals().busyExtents().busyBlocks(), "nothing went on the busy list");
        assertArrayEquals(before, metadataArea(), "no byte outside the data area changed");
        assertEquals(damaged, fs.lookup(ROOT, "damaged"), "the file keeps its name");
        assertArrayEquals(pattern(2, 0, 8 * B), read(fs, healthy, 0, 8 * B), "other files keep their data");
    }

    @Test
    void truncateFailsCleanly() {
        failsCleanly(() -> fs.truncate(damaged, 0));
        failsCleanly(() -> fs.truncate(damaged, B + 1));
    }

    @Test
    void unlinkFailsCleanly() {
        failsCleanly(() -> fs.unlink(ROOT, "damaged"));
    }

    @Test
    void punchAndZeroRangeFailCleanly() {
        failsCleanly(() -> fs.punchHole(damaged, 0, 4 * B));
        failsCleanly(() -> fs.punchHole(damaged, 100, 10)); // a partial block: zeroing, not freeing
        failsCleanly(() -> fs.zeroRange(damaged, 0, B, true));
    }

    @Test
    void renameOverTheDamagedFileFailsCleanly() {
        long other = fs.create(ROOT, "other", 0644, 0, 0);
        failsCleanly(() -> fs.rename(ROOT, "other", ROOT, "damaged"));
        assertEquals(other, fs.lookup(ROOT, "other"), "the source keeps its name too");
    }

    @Test
    void theFileSystemStaysUsableAndTheDamageIsRecorded() {
        failsCleanly(() -> fs.unlink(ROOT, "damaged"));
        long f = fs.create(ROOT, "after", 0644, 0, 0); // errors=continue: other changes go on
        write(fs, f, 0, pattern(3, 0, 3 * B));
        fs.unlink(ROOT, "after");
        // The damage was recorded in the journal header: a read-write mount is refused until
        // fsck -y has repaired the image; a read-only one still reads the healthy file.
        dev.unmount();
        var e = assertThrows(CorruptFileSystemException.class, dev::mount);
        assertTrue(e.getMessage().contains("outside the data area") && e.getMessage().contains("fsck -y"),
                e.getMessage());
        fs = dev.mount(MountSettings.defaults().withReadOnly(true));
        assertArrayEquals(pattern(2, 0, 8 * B), read(fs, healthy, 0, 8 * B));
    }
}
