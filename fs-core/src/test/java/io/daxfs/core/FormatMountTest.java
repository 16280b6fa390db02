package io.daxfs.core;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.devdax.OpenedDevice;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** mkfs, mount, statfs, and refusal to mount anything that is not a valid daxfs. */
class FormatMountTest {
    private Path dir;

    @BeforeEach
    void setUp() {
        dir = TestDevice.newTempDir();
    }

    @AfterEach
    void tearDown() {
        TestDevice.deleteTree(dir);
    }

    @Test
    void freshFileSystemHasRootDirectory() {
        try (TestDevice dev = TestDevice.createIn(dir, 32 * MIB, new FormatOptions(0, "vol", 1000, 100))) {
            DaxFileSystem fs = dev.fs();
            Attributes root = fs.getattr(DaxFileSystem.ROOT);
            assertTrue(root.isDirectory());
            assertEquals(FileMode.S_IFDIR | 0755, root.mode());
            assertEquals(2, root.nlink());
            assertEquals(1000, root.uid());
            assertEquals(100, root.gid());
            var names = fs.readdir(DaxFileSystem.ROOT);
            assertEquals(2, names.size());
            assertEquals(".", names.get(0).name());
            assertEquals("..", names.get(1).name());
            assertEquals(DaxFileSystem.ROOT, names.get(1).ino(), "the root is its own parent");
            assertEquals(DaxFileSystem.ROOT, fs.resolve("/"));
            assertEquals("vol", fs.superblock().label());

            Geometry g = fs.superblock().geometry();
            FsStats st = fs.statfs();
            assertEquals(Geometry.BLOCK_SIZE, st.blockSize());
            assertEquals(g.dataBlocks(), st.totalBlocks());
            assertEquals(g.dataBlocks(), st.freeBlocks(), "nothing is allocated after mkfs");
            assertEquals(g.inodeCount(), st.totalInodes());
            assertEquals(g.inodeCount() - 1, st.freeInodes(), "only the root inode is in use");
            assertEquals(255, st.maxNameLength());
            assertTrue(g.dataStart() < g.totalBlocks());
            assertEquals(32 * MIB / Geometry.BLOCK_SIZE, g.totalBlocks());
            FsSnapshot.assertSpaceAccounted(fs);

            // The same after a remount.
            fs = dev.remount();
            assertEquals(st, fs.statfs());
            assertEquals(FileMode.S_IFDIR | 0755, fs.getattr(DaxFileSystem.ROOT).mode());
        }
    }

    @Test
    void statfsFollowsWritesAndDeletes() {
        try (TestDevice dev = TestDevice.createIn(dir, 32 * MIB, FormatOptions.defaults())) {
            DaxFileSystem fs = dev.fs();
            long ino = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
            // Creating the first name allocated the root's first directory block.
            FsStats start = fs.statfs();
            assertEquals(fs.superblock().geometry().dataBlocks() - 1, start.freeBlocks());
            assertEquals(start.totalInodes() - 2, start.freeInodes());

            int n = 37;
            TestDevice.write(fs, ino, 0, new byte[n * Geometry.BLOCK_SIZE]);
            assertEquals(start.freeBlocks() - n, fs.statfs().freeBlocks());
            assertEquals(n * 8L, fs.getattr(ino).blocks512());
            // Rewriting mapped blocks allocates nothing.
            TestDevice.write(fs, ino, 100, new byte[5000]);
            assertEquals(start.freeBlocks() - n, fs.statfs().freeBlocks());
            // One more byte past the end needs exactly one more block.
            TestDevice.write(fs, ino, (long) n * Geometry.BLOCK_SIZE, new byte[] {1});
            assertEquals(start.freeBlocks() - n - 1, fs.statfs().freeBlocks());
            FsSnapshot.assertSpaceAccounted(fs);

            fs = dev.remount();
            assertEquals(start.freeBlocks() - n - 1, fs.statfs().freeBlocks(), "rebuilt from the bitmap");

            fs.unlink(DaxFileSystem.ROOT, "f");
            // The emptied root gives its directory block back: the whole data area is free.
            assertEquals(start.freeBlocks() + 1, fs.statfs().freeBlocks());
            assertEquals(fs.superblock().geometry().dataBlocks(), fs.statfs().freeBlocks());
            assertEquals(start.freeInodes() + 1, fs.statfs().freeInodes());
            fs = dev.remount();
            assertEquals(start.freeBlocks() + 1, fs.statfs().freeBlocks());
            assertEquals(start.freeInodes() + 1, fs.statfs().freeInodes());
            FsSnapshot.assertSpaceAccounted(fs);
        }
    }

    @Test
    void formatOptionsInodeCount() {
        try (TestDevice dev = TestDevice.createIn(dir, 16 * MIB, new FormatOptions(100, "", 0, 0))) {
            // Rounded up to whole inode-table blocks.
            assertEquals(112, dev.fs().statfs().totalInodes());
        }
    }

    @Test
    void inodeCountIsRoundedUpAndBounded() {
        assertEquals(1_000_016, Geometry.forDevice(1024 * MIB, 1_000_001).inodeCount(), "rounded up to 16 per block");
        assertEquals(16, Geometry.forDevice(16 * MIB, 1).inodeCount());
        assertThrows(IllegalArgumentException.class, () -> Geometry.forDevice(64 * MIB, -1));
        assertThrows(IllegalArgumentException.class, () -> Geometry.forDevice(1L << 50, Geometry.MAX_INODES + 1));
        var e = assertThrows(IllegalArgumentException.class, () -> Geometry.forDevice(64 * MIB, 1_000_000));
        assertTrue(e.getMessage().contains("fewer inodes"), e.getMessage());
        Geometry big = Geometry.forDevice(1L << 50, Geometry.MAX_INODES);
        assertEquals(Geometry.MAX_INODES, big.inodeCount());
        assertNull(big.validate(1L << 50), "the largest inode count is a valid geometry");
    }

    @Test
    void geometryRejectsDevicesBelow16MiB() {
        var e = assertThrows(IllegalArgumentException.class, () -> Geometry.forDevice(16 * MIB - 4096, 0));
        assertTrue(e.getMessage().contains("16 MiB"), e.getMessage());
        assertNotNull(Geometry.forDevice(16 * MIB, 0));
        assertThrows(IllegalArgumentException.class, () -> Geometry.forDevice(0, 0));

        // mkfs on a too-small image refuses before writing anything.
        try (OpenedDevice d = TestDevice.open(dir.resolve("small.img"), 8 * MIB)) {
            assertThrows(IllegalArgumentException.class,
                    () -> DaxFileSystem.format(d.region(), FormatOptions.defaults()));
            byte[] all = d.region().readView().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            assertTrue(isAllZero(all), "a refused mkfs wrote to the device");
        }
    }

    @Test
    void mountOfZeroFilledFileFails() throws IOException {
        Path img = dir.resolve("zero.img");
        TestDevice.open(img, 16 * MIB).close();
        assertMountRefused(img, "bad magic");
    }

    @Test
    void mountOfRandomBytesFails() throws IOException {
        Path img = dir.resolve("random.img");
        byte[] junk = new byte[(int) (16 * MIB)];
        long seed = TestDevice.seed("mountOfRandomBytesFails");
        new Random(seed).nextBytes(junk);
        Files.write(img, junk);
        assertMountRefused(img, "bad magic");
    }

    @Test
    void mountWithBadSuperblockChecksumFails() throws IOException {
        Path img = formattedImage("crc.img");
        byte[] bytes = Files.readAllBytes(img);
        // Flip a byte of the label (covered by the CRC) in both copies; magic and version stay.
        bytes[130] ^= 0x5a;
        bytes[Geometry.BLOCK_SIZE + 130] ^= 0x5a;
        Files.write(img, bytes);
        assertTrue(Superblock.hasMagic(java.lang.foreign.MemorySegment.ofArray(bytes)));
        assertMountRefused(img, "checksum");
    }

    @Test
    void mountWithFutureVersionFails() throws IOException {
        Path img = formattedImage("future.img");
        byte[] bytes = Files.readAllBytes(img);
        for (int base : new int[] {0, Geometry.BLOCK_SIZE}) {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(base + 8, Superblock.VERSION + 1);
            // A future mkfs would write a matching checksum.
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(bytes, base, 252);
            b.putInt(base + 252, (int) crc.getValue());
        }
        Files.write(img, bytes);
        String msg = assertMountRefused(img, "version");
        assertTrue(msg.contains(String.valueOf(Superblock.VERSION + 1)), msg);
    }

    @Test
    void aDamagedPrimarySuperblockRefusesReadWriteButAReadOnlyMountUsesTheBackup() throws Exception {
        Path img = formattedImage("backup.img");
        byte[] bytes = Files.readAllBytes(img);
        Arrays.fill(bytes, 0, 256, (byte) 0x77); // primary destroyed, backup intact
        Files.write(img, bytes);
        String msg = assertMountRefused(img, "primary superblock");
        assertTrue(msg.contains("fsck -y"), msg);
        try (OpenedDevice d = io.daxfs.devdax.DeviceOpener.open(img,
                io.daxfs.devdax.DeviceOptions.builder().readOnly(true).privateMapping(true).build())) {
            DaxFileSystem fs = DaxFileSystem.mount(d.region(), io.daxfs.core.base.MountSettings.defaults()
                    .withReadOnly(true));
            assertTrue(fs.mountNotes().getFirst().contains("primary superblock"), fs.mountNotes().toString());
            long ino = fs.lookup(DaxFileSystem.ROOT, "hello");
            assertTrue(fs.getattr(ino).isRegular());
        }
        assertArrayEquals(bytes, Files.readAllBytes(img), "the read-only mount wrote nothing");
    }

    @Test
    void mountWithDamagedJournalHeaderFails() throws IOException {
        Path img = formattedImage("journal.img");
        byte[] bytes = Files.readAllBytes(img);
        long journal;
        try (OpenedDevice d = TestDevice.openExisting(img)) {
            journal = Superblock.read(d.region().readView()).geometry().journalOffset();
        }
        bytes[(int) journal] ^= 1;
        Files.write(img, bytes);
        assertMountRefused(img, "journal");
    }

    /** A formatted image holding one file, unmounted. */
    private Path formattedImage(String name) {
        Path img = dir.resolve(name);
        try (OpenedDevice d = TestDevice.open(img, 16 * MIB)) {
            DaxFileSystem.format(d.region(), FormatOptions.defaults());
            DaxFileSystem fs = DaxFileSystem.mount(d.region());
            fs.create(DaxFileSystem.ROOT, "hello", 0644, 0, 0);
            fs.close();
        }
        return img;
    }

    /** Mount must throw CorruptFileSystemException mentioning {@code word} and leave the file as it was. */
    private static String assertMountRefused(Path img, String word) throws IOException {
        byte[] before = Files.readAllBytes(img);
        String message;
        try (OpenedDevice d = TestDevice.openExisting(img)) {
            var e = assertThrows(CorruptFileSystemException.class, () -> DaxFileSystem.mount(d.region()));
            message = e.getMessage();
        }
        assertNotNull(message);
        assertTrue(message.toLowerCase().contains(word), "message should mention '" + word + "': " + message);
        assertArrayEquals(before, Files.readAllBytes(img), "a refused mount changed the image");
        return message;
    }

    private static boolean isAllZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void randomBytesAfterValidSuperblockDoNotMountSilently() throws IOException {
        // A valid superblock over garbage (e.g. a truncated copy): the journal header is junk.
        Path img = formattedImage("garbage.img");
        byte[] bytes = Files.readAllBytes(img);
        byte[] junk = new byte[bytes.length - 2 * Geometry.BLOCK_SIZE];
        new Random(42).nextBytes(junk);
        System.arraycopy(junk, 0, bytes, 2 * Geometry.BLOCK_SIZE, junk.length);
        Files.write(img, bytes);
        assertMountRefused(img, "journal");
        assertFalse(isAllZero(bytes));
    }
}
