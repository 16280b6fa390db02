package io.daxfs.core;

import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.inode.InodeCheck;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.journal.ErrorState;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.lifetime.InodeLifetimes;
import io.daxfs.devdax.MediaOrder;
import io.daxfs.devdax.PmemRegion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * What a mount checks before it serves anything (docs/reliability.md, "What is verified
 * when"), in this order:
 * <ol>
 * <li>the superblock: magic, version, checksum, geometry; both copies must be sound;</li>
 * <li>the journal header (magic, plausible fields) and the committed transaction a replay
 *     would apply (its records stay inside the device, off the superblocks and the slot);</li>
 * <li>the error state recorded while mounted: damage found then refuses the mount until fsck
 *     has repaired it;</li>
 * <li>(the journal is replayed)</li>
 * <li>every bitmap block against the checksum table, the metadata blocks marked in use and
 *     no bit set past the end of either bitmap;</li>
 * <li>the root inode, and the orphan list (each member a sound orphan, no loop);</li>
 * <li>with {@code check=full}, or {@code check=auto} on a file system of up to
 *     {@link MountSettings#AUTO_FULL_INODES} inodes in use, the whole of fsck.</li>
 * </ol>
 * A read-write mount is refused at the first finding, with that finding as its one-line
 * message, and nothing is written (the replay of a sound committed transaction aside). A
 * read-only mount never writes: it mounts despite the findings, for rescue, and lists them
 * ({@link DaxFileSystem#mountNotes}); it replays a committed transaction only into a private
 * copy-on-write mapping and is refused on a device that holds one.
 */
final class Mounting {
    private Mounting() {
    }

    static DaxFileSystem mount(PmemRegion region, MountSettings s) {
        MemorySegment media = region.readView();
        Superblock sb = Superblock.readVerified(media);
        Geometry g = sb.geometry();
        Checksums checksums = new Checksums(sb);
        List<String> notes = new ArrayList<>();
        ErrorState errors = new ErrorState(s.errors(), s.readOnly());
        for (int copy = 0; copy < 2; copy++) {
            String problem = Superblock.problem(media, copy);
            String which = copy == 0 ? "primary" : "backup";
            check(notes, s.readOnly(), () -> {
                if (problem != null) {
                    throw new CorruptFileSystemException("the " + which + " superblock is damaged (" + problem
                            + "); the other copy is sound: run daxfs fsck -y to rewrite it",
                            CorruptFileSystemException.NONE, which.equals("primary") ? 0 : 1);
                }
            });
        }
        Journal journal = openJournal(region, g, checksums, errors, s.readOnly(), notes);
        check(notes, s.readOnly(), () -> checkBitmaps(media, checksums));
        check(notes, s.readOnly(), () -> checkRoot(media, checksums));
        check(notes, s.readOnly(), () -> InodeLifetimes.verifyOrphans(media, checksums, ino -> bit(media,
                g.inodeBitmapOffset(), ino - 1)));
        if (notes.isEmpty() && fullCheck(s, media, g)) {
            FsckReport report = FsChecker.check(media);
            if (!report.clean()) {
                String first = report.fatal() != null ? report.fatal() : report.errors().getFirst();
                check(notes, s.readOnly(), () -> {
                    throw new CorruptFileSystemException("fsck finds the file system damaged (" + report.errors().size()
                            + " finding(s); the first: " + first + "); run daxfs fsck -y");
                });
            }
        }
        DaxFileSystem fs = new DaxFileSystem(region, sb, s, journal, notes);
        if (!s.readOnly()) {
            fs.finishOrphans();
        }
        return fs;
    }

    private static Journal openJournal(PmemRegion region, Geometry g, Checksums checksums, ErrorState errors,
                                       boolean readOnly, List<String> notes) {
        MemorySegment media = region.readView();
        Journal.Header header;
        Journal.PendingTransaction pending;
        try {
            header = Journal.header(media, g);
            pending = Journal.inspect(media, g);
        } catch (CorruptFileSystemException e) {
            if (!readOnly) {
                throw e;
            }
            notes.add(e.getMessage() + "; the journal was not replayed");
            return Journal.unreplayed(region, checksums, errors);
        }
        if (header.error() != null) {
            String what = "the file system found damaged metadata while mounted: " + header.error().describe()
                    + "; run daxfs fsck -y";
            if (!readOnly) {
                throw new CorruptFileSystemException(what + " (or mount it with -o ro to copy files off)");
            }
            notes.add(what);
        }
        if (pending != null && readOnly) {
            if (!region.isPrivate()) {
                throw new CorruptFileSystemException("the journal holds committed transaction " + pending.seq()
                        + ", which a read-only mount cannot apply here without writing: mount read-write once, or"
                        + " run daxfs fsck -y");
            }
            notes.add("journal transaction " + pending.seq() + " was applied to a private copy in memory; the image"
                    + " is unchanged");
        }
        return Journal.recover(region, checksums, errors, !readOnly);
    }

    @FunctionalInterface
    private interface Check {
        void run();
    }

    /** Runs {@code check}: a finding refuses a read-write mount, and is a note on a read-only one. */
    private static void check(List<String> notes, boolean readOnly, Check check) {
        try {
            check.run();
        } catch (CorruptFileSystemException e) {
            if (!readOnly) {
                throw e;
            }
            notes.add(e.getMessage());
        }
    }

    /** Every bitmap block matches its checksum; metadata blocks are in use; no bit is set past either end. */
    static void checkBitmaps(MemorySegment media, Checksums checksums) {
        Geometry g = checksums.geometry();
        for (long b = g.inodeBitmapStart(); b < g.blockBitmapStart() + g.blockBitmapBlocks(); b++) {
            if (!checksums.bitmapOk(media, b)) {
                String which = b < g.blockBitmapStart() ? "inode bitmap" : "block bitmap";
                throw new CorruptFileSystemException(which + " block " + b + " fails its checksum",
                        CorruptFileSystemException.NONE, b);
            }
        }
        for (long blk = 0; blk < g.dataStart(); blk++) {
            if (!bit(media, g.blockBitmapOffset(), blk)) {
                throw new CorruptFileSystemException("block bitmap marks metadata block " + blk + " free",
                        CorruptFileSystemException.NONE, g.blockBitmapStart() + (blk >>> 15));
            }
        }
        checkTail(media, g.inodeBitmapOffset(), g.inodeCount(), g.inodeBitmapBlocks(), "inode bitmap");
        checkTail(media, g.blockBitmapOffset(), g.totalBlocks(), g.blockBitmapBlocks(), "block bitmap");
    }

    private static void checkTail(MemorySegment media, long offset, long bits, long blocks, String what) {
        for (long i = bits; i < blocks * Geometry.BLOCK_SIZE * 8; i++) {
            if ((i & 7) == 0 && media.get(ValueLayout.JAVA_BYTE, offset + (i >>> 3)) == 0) {
                i += 7;
                continue;
            }
            if (bit(media, offset, i)) {
                throw new CorruptFileSystemException(what + " has bit " + i + " set past its end",
                        CorruptFileSystemException.NONE, (offset >>> Geometry.BLOCK_SHIFT) + (i >>> 15));
            }
        }
    }

    /** The root inode is in use, sound and a directory. */
    static void checkRoot(MemorySegment media, Checksums checksums) {
        Geometry g = checksums.geometry();
        if (!bit(media, g.inodeBitmapOffset(), InodeLayout.ROOT - 1)) {
            throw new CorruptFileSystemException("the root directory's inode is marked free", InodeLayout.ROOT,
                    g.inodeBitmapStart());
        }
        CorruptFileSystemException e = InodeCheck.problem(media, checksums, InodeLayout.ROOT);
        if (e != null) {
            throw e;
        }
        if (!FileMode.isDirectory(media.get(MediaOrder.INT, g.inodeOffset(InodeLayout.ROOT)))) {
            throw new CorruptFileSystemException("the root inode is not a directory", InodeLayout.ROOT,
                    g.inodeTableStart());
        }
    }

    /** Whether {@code s} asks for the whole of fsck: full, or auto and few enough inodes in use. */
    private static boolean fullCheck(MountSettings s, MemorySegment media, Geometry g) {
        return switch (s.check()) {
            case FULL -> true;
            case QUICK -> false;
            case AUTO -> inodesInUse(media, g) <= MountSettings.AUTO_FULL_INODES;
        };
    }

    private static long inodesInUse(MemorySegment media, Geometry g) {
        long n = 0;
        for (long w = 0; w * 64 < g.inodeCount(); w++) {
            n += Long.bitCount(media.get(MediaOrder.LONG, g.inodeBitmapOffset() + w * 8));
        }
        return n;
    }

    static boolean bit(MemorySegment media, long bitmapOffset, long bit) {
        return (media.get(ValueLayout.JAVA_BYTE, bitmapOffset + (bit >>> 3)) & (1 << (bit & 7))) != 0;
    }
}
