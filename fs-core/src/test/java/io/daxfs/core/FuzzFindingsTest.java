package io.daxfs.core;

import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.journal.Journal;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression tests for what the fuzz targets (module fuzz-tests, docs/reliability.md,
 * "Fuzzing") found, beside the hostile images made from the same findings
 * ({@link HostileImages}, the "fuzzer:" cases).
 */
class FuzzFindingsTest {
    @TempDir
    Path dir;

    /**
     * Both superblock copies of another UUID (their CRCs valid): every inode fails its
     * checksum, so fsck -y makes a new root directory. It used to read the old root's block
     * map anyway and keep its blocks in use, then overwrite the inode: a repair that left a
     * leaked block (exit 4) and a second fsck that was not clean.
     */
    @Test
    void newRootLeavesNoLeakedBlock() throws Exception {
        Path image = HostileImages.build(dir);
        HostileImages.Target t = HostileImages.target(image);
        for (long base : new long[] {0, Geometry.BLOCK_SIZE}) {
            t.xor(base + 17, 0x5a);
            t.putInt(base + 252, HostileImages.crc32c(t.bytes(base, 252)));
        }
        FsckReport repair = HostileImageTest.repair(image);
        System.out.print(repair.render());
        assertTrue(repair.leftDamaged().isEmpty(), repair.render());
        assertEquals(FsckReport.REPAIRED, repair.exitCode());
        try (OpenedDevice d = DeviceOpener.open(image, DeviceOptions.readOnlyOptions())) {
            FsckReport again = FsChecker.check(d.region().readView());
            assertTrue(again.clean(), again.render());
        }
    }

    /** An error record's time past what java.time holds is a damaged header, not a DateTimeException. */
    @Test
    void errorRecordTimeOutOfRange() {
        var region = new io.daxfs.devdax.ScratchRegion(java.lang.foreign.Arena.ofAuto().allocate(16L << 20, 4096),
                io.daxfs.devdax.PersistenceMode.FENCE_ONLY);
        Geometry g = DaxFileSystem.format(region, io.daxfs.core.base.FormatOptions.defaults()).geometry();
        long h = g.journalOffset();
        region.putInt(h + 24, 0x52455844); // "DXER": an error is recorded
        region.putInt(h + 28, 0);
        region.putLong(h + 48, Long.MAX_VALUE);
        CorruptFileSystemException e = assertThrows(CorruptFileSystemException.class,
                () -> Journal.header(region.readView(), g));
        assertTrue(e.getMessage().contains("error recorded at time"), e.getMessage());
        assertTrue(FsChecker.check(region.readView()).errors().stream()
                .anyMatch(f -> f.contains("error recorded at time")));
        region.putLong(h + 48, 1_700_000_000L);
        assertTrue(Journal.header(region.readView(), g).error().describe().contains("2023-11-14"));
    }

    /** Corruption messages quote names read from the media: they stay one printable line. */
    @Test
    void messagesAreOneLine() {
        String m = new CorruptFileSystemException("entry 'a\nb\r\u0085c\u2028' is bad").getMessage();
        assertEquals("entry 'a\\x0ab\\x0d\\x85c\\u2028' is bad", m);
    }
}
