package io.daxfs.core.check;

import io.daxfs.core.base.FsException;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.journal.ErrorState;
import io.daxfs.core.journal.Journal;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * fsck (docs/reliability.md, "fsck"): {@link #check} reads and reports and never writes;
 * {@link #repair} ({@code fsck -y}) repairs what it finds and then checks again.
 *
 * <p>What is checked: both superblock copies; the journal header, its recorded error state
 * and the committed transaction a mount would replay (a check looks at a private copy with it
 * applied); then, in one {@link Scan}: the bitmaps' checksums, every inode in use (checksum,
 * mode, fields), the orphan list, every block map and overflow chain, every attribute index
 * and out-of-line value, which blocks each inode owns (each block at most once), every
 * directory block and entry, the tree from the root (each directory reached once, with the
 * right parent; every inode in use reached or an orphan), link counts, block counts, sizes,
 * and both bitmaps against what is in use.
 *
 * <p>Repairs, in order: a damaged superblock copy is rewritten from the other; a damaged
 * journal header is rewritten (no orphan list, the slot not replayed); a committed
 * transaction is replayed, or discarded if it is damaged; then the scan's decisions are
 * written through the journal ({@link Fixes}); the recorded error state is cleared;
 * unreachable inodes are put in /lost+found ({@link LostFound}); and the image is checked
 * again: what that check still finds is "left damaged" (exit 4).
 */
public final class FsChecker {
    /** Largest device copied into memory when a journal replay must be simulated. */
    static final long MAX_PRIVATE_COPY = 8L << 30;

    /** Receives how far a check is: {@code done} of {@code total} steps (for a progress bar). */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void advanced(long done, long total);
    }

    /** Puts inodes in /lost+found of a repaired image: each {ino, 1 if a directory}, named "#ino". */
    @FunctionalInterface
    public interface LostFound {
        void reconnect(PmemRegion region, List<long[]> lost);
    }

    private FsChecker() {
    }

    public static FsckReport check(MemorySegment device) {
        return check(device, Progress.NONE);
    }

    /** Checks {@code device} without writing anything. */
    public static FsckReport check(MemorySegment device, Progress progress) {
        FsckReport report = new FsckReport();
        try (Arena arena = Arena.ofConfined()) {
            Superblock sb = superblocks(device, report, null);
            Geometry g = sb.geometry();
            MemorySegment media = device;
            try {
                Journal.Header h = Journal.header(device, g);
                if (h.error() != null) {
                    report.error("the file system found damaged metadata while mounted: " + h.error().describe());
                }
                Journal.PendingTransaction pending = Journal.inspect(device, g);
                if (pending != null) {
                    if (device.byteSize() > MAX_PRIVATE_COPY) {
                        report.fatal("the journal holds committed transaction " + pending.seq()
                                + " that the next mount will replay; mount the file system once, or run fsck -y");
                        return report;
                    }
                    MemorySegment copy = arena.allocate(device.byteSize(), 4096);
                    copy.copyFrom(device);
                    pending.forEachRecord((off, data) ->
                            MemorySegment.copy(data, 0, copy, ValueLayout.JAVA_BYTE, off, data.length));
                    media = copy;
                    report.note("journal transaction " + pending.seq() + " is committed but not applied; "
                            + "checked the state the next mount will see after replaying it");
                }
            } catch (CorruptFileSystemException e) {
                report.error(e.getMessage());
            }
            new Scan(media, new Checksums(sb), report, null, progress).run();
        } catch (CorruptFileSystemException e) {
            report.fatal(e.getMessage());
        } catch (RuntimeException e) {
            report.fatal("the checker stopped on damaged metadata: " + e);
        }
        return report;
    }

    /**
     * {@code fsck -y}: repairs {@code region} (opened read-write and locked by the caller),
     * printing each finding with what was done, and checks it again.
     */
    public static FsckReport repair(PmemRegion region, Progress progress, LostFound lostFound) {
        FsckReport report = new FsckReport();
        report.repairMode();
        try {
            MemorySegment media = region.readView();
            Superblock sb = superblocks(media, report, region);
            Geometry g = sb.geometry();
            Checksums checksums = new Checksums(sb);
            Journal journal = journal(region, g, checksums, report);
            boolean recordedError = Journal.header(media, g).error() != null;
            Fixes fixes = new Fixes();
            Scan scan = new Scan(media, checksums, report, fixes, progress);
            scan.run();
            fixes.commit(journal);
            if (recordedError) {
                Journal.clearError(region, g);
            }
            List<long[]> lost = scan.lost();
            String notMoved = null;
            if (!lost.isEmpty()) {
                try {
                    lostFound.reconnect(region, lost);
                } catch (RuntimeException e) {
                    notMoved = "could not move " + lost.size() + " inode(s) to /lost+found: " + e.getMessage();
                }
            }
            FsckReport after = check(region.readView());
            if (notMoved != null) {
                report.leftDamaged(List.of(notMoved));
            }
            report.leftDamaged(after.fatal() != null ? List.of(after.fatal()) : after.errors());
            report.countsOf(after);
            if (!report.leftDamaged().isEmpty()) {
                Journal.recordError(region, g, "fsck -y left damage: " + report.leftDamaged().getFirst());
            }
        } catch (CorruptFileSystemException e) {
            report.fatal(e.getMessage());
        } catch (FsException | IllegalStateException e) {
            report.fatal("the repair could not be written: " + e.getMessage());
        }
        return report;
    }

    /**
     * Checks both superblock copies and returns a sound one; a damaged copy is reported and,
     * when {@code region} is given, rewritten from the sound one.
     *
     * @throws CorruptFileSystemException if neither copy is sound
     */
    private static Superblock superblocks(MemorySegment device, FsckReport report, PmemRegion region) {
        String primary = Superblock.problem(device, 0);
        String backup = Superblock.problem(device, 1);
        if (primary != null && backup != null) {
            throw new CorruptFileSystemException(primary);
        }
        int good = primary == null ? 0 : 1;
        if (primary == null && backup == null && !Superblock.rootVerifies(device, 0)
                && Superblock.rootVerifies(device, 1)) {
            good = 1; // both pass their CRC but differ: the copy whose UUID the metadata's checksums use
        }
        int other = 1 - good;
        String problem = good == 0 ? backup : primary;
        byte[] bytes = device.asSlice((long) good * Geometry.BLOCK_SIZE, 256).toArray(ValueLayout.JAVA_BYTE);
        if (problem == null && !Arrays.equals(bytes,
                device.asSlice((long) other * Geometry.BLOCK_SIZE, 256).toArray(ValueLayout.JAVA_BYTE))) {
            problem = good == 0 ? "it differs from the primary"
                    : "it differs from the backup, whose UUID the metadata's checksums are seeded with";
        }
        if (problem != null) {
            String which = other == 0 ? "primary superblock" : "backup superblock";
            report.error(which + ": " + problem);
            if (region != null) {
                report.repaired(which + ": " + problem, "rewrote it from the " + (good == 0 ? "primary" : "backup"));
                long at = (long) other * Geometry.BLOCK_SIZE;
                region.write(at, bytes, 0, bytes.length);
                region.flush(at, bytes.length);
                region.fence();
            }
        }
        return Superblock.copy(device, good);
    }

    /** The journal of a repair: a damaged header rewritten, the committed transaction replayed or discarded. */
    private static Journal journal(PmemRegion region, Geometry g, Checksums checksums, FsckReport report) {
        MemorySegment media = region.readView();
        try {
            Journal.header(media, g);
        } catch (CorruptFileSystemException e) {
            report.error(e.getMessage());
            report.repaired(e.getMessage(), "wrote a fresh journal header (the committed transaction in the slot is"
                    + " not replayed; orphans are found again below)");
            Journal.rewriteHeader(region, g, Journal.slotSequence(media, g));
        }
        Journal.Header h = Journal.header(media, g);
        if (h.error() != null) {
            String finding = "the file system found damaged metadata while mounted: " + h.error().describe();
            report.error(finding);
            report.repaired(finding, "cleared the record once the repair was written");
        }
        try {
            Journal.PendingTransaction pending = Journal.inspect(media, g);
            if (pending != null) {
                report.repaired("journal transaction " + pending.seq() + " is committed but not applied",
                        "replayed it");
            }
        } catch (CorruptFileSystemException e) {
            report.error(e.getMessage());
            report.repaired(e.getMessage(), "discarded it");
            Journal.markApplied(region, g, Journal.slotSequence(media, g));
        }
        return Journal.recover(region, checksums, ErrorState.defaults(), false);
    }
}
