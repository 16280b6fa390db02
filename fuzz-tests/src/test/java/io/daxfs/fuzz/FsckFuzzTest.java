package io.daxfs.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.Fsck;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.Geometry;
import io.daxfs.devdax.ScratchRegion;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Fuzzes fsck and mount over whole images: {@link FuzzImage} with a list of byte changes
 * aimed at its metadata, checksums recomputed afterwards (unless the input says not to), so
 * that the damage reaches the checks behind them. For each image:
 * <ul>
 * <li>{@code fsck -n} ({@link FsChecker#check}) reports without failing: a report whose
 *     fatal line says the checker stopped on an unexpected exception is a finding;</li>
 * <li>a read-write mount refuses an image fsck finds damaged, and fails with nothing but the
 *     corruption exception;</li>
 * <li>{@code fsck -y} ({@link Fsck#repair}) never makes it worse: the check after it is clean,
 *     or finds only what the repair said it left damaged; a repaired image mounts read-write
 *     and is still clean after that mount (orphans freed) is unmounted.</li>
 * </ul>
 *
 * <p>Input: byte 0 flags (bit 0: keep the checksums as damaged; bit 1: no repair), then
 * changes, each {@code where u8, position u16, length u8 (0..63), bytes}; {@code where} picks
 * the structure (see {@link #target}).
 */
class FsckFuzzTest {
    /** What a report's fatal line starts with when the checker caught an unexpected exception. */
    static final String CHECKER_STOPPED = "the checker stopped on damaged metadata";
    /** The finding of the error state a repair that left damage records (it names that damage). */
    static final String RECORDED_LEFT = "the file system found damaged metadata while mounted: fsck -y left damage: ";

    @FuzzTest(maxDuration = "20s")
    void fsck(byte[] data) {
        if (data.length < 1) {
            return;
        }
        FuzzImage image = FuzzImage.get();
        ScratchRegion damage = image.undoRegion();
        try {
            damage(image, damage, data);
            run(image, (data[0] & 2) == 0);
        } finally {
            damage.rollback();
        }
    }

    /** Applies the changes of {@code data} through {@code region}, then reseals unless told not to. */
    static void damage(FuzzImage image, ScratchRegion region, byte[] data) {
        Reseal reseal = new Reseal(region, image.checksums);
        List<long[]> ranges = new java.util.ArrayList<>();
        int p = 1;
        while (p + 4 <= data.length) {
            int where = data[p] & 0xff;
            int pos = (data[p + 1] & 0xff) | (data[p + 2] & 0xff) << 8;
            int len = Math.min(data[p + 3] & 63, data.length - p - 4);
            long at = target(image, where, pos);
            if (at >= 0 && at + len <= image.memory.byteSize()) {
                region.write(at, data, p + 4, len);
                if (where % 10 == 1) {
                    region.write(at + Geometry.BLOCK_SIZE, data, p + 4, len);
                }
                ranges.add(new long[] {at, at + Math.max(1, len)});
            }
            p += 4 + len;
        }
        if ((data[0] & 1) == 0) {
            reseal.superblocks();
            reseal.slot();
            for (long[] r : ranges) {
                reseal.unitsIn(r[0], r[1]);
            }
        }
    }

    /** Device byte a change at {@code pos} in structure {@code where} lands on. */
    static long target(FuzzImage image, int where, int pos) {
        Geometry g = image.g;
        return switch (where % 10) {
            case 0, 1 -> pos % 256;                                                    // superblock(s)
            case 2 -> g.journalOffset() + pos % 128;                                   // journal header
            case 3 -> g.journalOffset() + Geometry.BLOCK_SIZE + pos % 8192;            // journal slot
            case 4 -> g.inodeBitmapOffset() + pos % (g.inodeBitmapBlocks() * Geometry.BLOCK_SIZE);
            case 5 -> g.blockBitmapOffset() + pos % (g.blockBitmapBlocks() * Geometry.BLOCK_SIZE);
            case 6 -> g.checksumTableOffset() + pos % 64;
            case 7 -> g.inodeOffset(image.inUse.get((pos >>> 8) % image.inUse.size())) + (pos & 0xff);
            case 8 -> Geometry.blockOffset(image.metadataBlocks.get((pos >>> 12) % image.metadataBlocks.size()))
                    + (pos & 0xfff);
            default -> (long) pos * 256 % image.memory.byteSize();
        };
    }

    /** fsck -n, a read-write mount, and (if {@code repair}) fsck -y with the checks after it. */
    static void run(FuzzImage image, boolean repair) {
        FsckReport check = FsChecker.check(image.memory);
        assertNoCrash(check, "fsck -n");
        boolean damaged = !check.clean();

        ScratchRegion mount = image.undoRegion();
        try {
            DaxFileSystem fs = Decoding.decode(() -> DaxFileSystem.mount(mount));
            if (fs != null) {
                fs.close();
                if (damaged) {
                    throw new AssertionError("a read-write mount accepted an image fsck finds damaged:\n"
                            + check.render());
                }
            }
        } finally {
            mount.rollback();
        }
        if (!repair) {
            return;
        }
        ScratchRegion fix = image.undoRegion();
        try {
            FsckReport rep = Fsck.repair(fix, FsChecker.Progress.NONE);
            assertNoCrash(rep, "fsck -y");
            if (rep.fatal() != null) {
                if (check.fatal() == null) {
                    throw new AssertionError("fsck -y gave up on an image fsck -n could check: " + rep.fatal()
                            + "\nfsck -n said:\n" + check.render());
                }
                if (fix.pagesSaved() != 0) {
                    throw new AssertionError("fsck -y wrote to an image it cannot repair: " + rep.fatal());
                }
                return;
            }
            FsckReport again = FsChecker.check(fix.readView());
            assertNoCrash(again, "fsck -n after fsck -y");
            Set<String> left = new HashSet<>(rep.leftDamaged());
            List<String> found = again.fatal() != null ? List.of(again.fatal()) : again.errors();
            for (String f : found) {
                if (!left.contains(f) && !f.startsWith(RECORDED_LEFT)) {
                    throw new AssertionError("fsck -y made the image worse: the check after it finds '" + f
                            + "', which it did not say it left\nfsck -n:\n" + check.render() + "fsck -y:\n"
                            + rep.render() + "fsck -n after:\n" + again.render());
                }
            }
            if (again.clean()) {
                DaxFileSystem fs = Decoding.decode(() -> DaxFileSystem.mount(fix));
                if (fs == null) {
                    throw new AssertionError("a repaired image that fsck finds clean does not mount read-write\n"
                            + rep.render());
                }
                fs.close();
                FsckReport after = FsChecker.check(fix.readView());
                if (!after.clean()) {
                    throw new AssertionError("a repaired image is damaged after a mount:\n" + rep.render()
                            + after.render());
                }
            }
        } finally {
            fix.rollback();
        }
    }

    /** Fails if {@code r} says fsck stopped on an unexpected exception rather than a corruption finding. */
    static void assertNoCrash(FsckReport r, String what) {
        if (r.fatal() != null && (r.fatal().startsWith(CHECKER_STOPPED)
                || r.fatal().startsWith("the repair could not be written"))) {
            throw new AssertionError(what + ": " + r.fatal());
        }
        List<String> lines = new java.util.ArrayList<>();
        lines.addAll(r.errors());
        lines.addAll(r.notes());
        lines.addAll(r.repairs());
        lines.addAll(r.leftDamaged());
        if (r.fatal() != null) {
            lines.add(r.fatal());
        }
        for (String line : lines) {
            if (line.contains("\n") || line.contains("\r")) {
                throw new AssertionError(what + ": a finding of more than one line: [" + line + "]");
            }
        }
    }
}
