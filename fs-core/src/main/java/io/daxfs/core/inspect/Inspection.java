package io.daxfs.core.inspect;

import io.daxfs.core.base.FileMode;
import io.daxfs.core.dir.Directory;
import io.daxfs.core.dir.DirentLayout;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.format.Superblock;
import io.daxfs.core.inode.ExtentMap;
import io.daxfs.core.inode.FileExtent;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.journal.Journal;
import io.daxfs.core.xattr.XattrCheck;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A read-only look at a daxfs device: superblock, journal, bitmaps, inodes and who owns which
 * blocks, as they are on the media right now. It never writes and never replays the journal:
 * a committed transaction that the next mount would replay is reported
 * ({@link JournalState#pending()}), not applied. On a mounted device every figure is a
 * snapshot taken while the daemon goes on changing things; damaged metadata met on the way is
 * collected in {@link #problems()} (and is fsck's business), never thrown, except a superblock
 * that cannot be read at all.
 */
public final class Inspection {
    private static final ValueLayout.OfLong LONG = MediaOrder.LONG;
    private static final ValueLayout.OfInt INT = MediaOrder.INT;
    /** Journal header: magic u64, appliedSeq u64, orphan-list head u64 (docs/format.md). */
    private static final long JOURNAL_MAGIC = 0x31304c4e524a5844L;

    private final MemorySegment media;
    private final Superblock superblock;
    private final Geometry g;
    private final List<String> problems = new ArrayList<>();

    private Inspection(MemorySegment media, Superblock superblock) {
        this.media = media;
        this.superblock = superblock;
        this.g = superblock.geometry();
    }

    /**
     * Reads the superblock (the backup if the primary is damaged).
     *
     * @throws CorruptFileSystemException with a one-line reason when the device holds no
     *                                    readable daxfs
     */
    public static Inspection of(MemorySegment media) {
        return new Inspection(media, Superblock.read(media));
    }

    public Superblock superblock() {
        return superblock;
    }

    public Geometry geometry() {
        return g;
    }

    /** True when block 1 holds the same superblock as block 0 (both copies intact and equal). */
    public boolean superblockCopiesAgree() {
        return media.asSlice(0, 256).mismatch(media.asSlice(Geometry.BLOCK_SIZE, 256)) < 0;
    }

    /** Damaged metadata met so far (each a line for the user), in the order found. */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    // ------------------------------------------------------------------ journal

    public JournalState journal() {
        long header = g.journalOffset();
        boolean valid = media.get(LONG, header) == JOURNAL_MAGIC;
        long applied = media.get(LONG, header + 8);
        long capacity = g.journalBytes() - Geometry.BLOCK_SIZE;
        long seq = 0;
        int records = 0;
        long bytes = 0;
        if (valid) {
            Journal.PendingTransaction p = Journal.inspect(media, g);
            if (p != null) {
                seq = p.seq();
                long[] counted = new long[2];
                p.forEachRecord((off, data) -> {
                    counted[0]++;
                    counted[1] += data.length;
                });
                records = (int) counted[0];
                bytes = counted[1];
            }
        } else {
            problems.add("the journal header is damaged (bad magic)");
        }
        return new JournalState(valid, applied, seq, records, bytes, valid ? countOrphans(header) : -1, capacity);
    }

    private long countOrphans(long header) {
        Set<Long> seen = new HashSet<>();
        long ino = media.get(LONG, header + 16);
        while (ino != 0) {
            if (ino < 1 || ino > g.inodeCount() || !seen.add(ino)) {
                problems.add("the orphan list is damaged at inode " + ino);
                return -1;
            }
            ino = media.get(LONG, g.inodeOffset(ino) + InodeLayout.NEXT_ORPHAN);
        }
        return seen.size();
    }

    // ------------------------------------------------------------------ bitmaps

    /** Allocated inodes, by type. */
    public InodeUsage inodes() {
        long used = 0;
        long files = 0;
        long dirs = 0;
        long links = 0;
        long other = 0;
        long words = Geometry.divUp(g.inodeCount(), 64);
        for (long w = 0; w < words; w++) {
            long bits = media.get(LONG, g.inodeBitmapOffset() + w * 8);
            while (bits != 0) {
                long ino = w * 64 + Long.numberOfTrailingZeros(bits) + 1;
                bits &= bits - 1;
                if (ino > g.inodeCount()) {
                    break;
                }
                used++;
                int type = FileMode.type(media.get(INT, g.inodeOffset(ino) + InodeLayout.MODE));
                if (type == FileMode.S_IFREG) {
                    files++;
                } else if (type == FileMode.S_IFDIR) {
                    dirs++;
                } else if (type == FileMode.S_IFLNK) {
                    links++;
                } else {
                    other++;
                }
            }
        }
        return new InodeUsage(g.inodeCount(), used, files, dirs, links, other);
    }

    /** Blocks in use and free, from the block bitmap. */
    public BlockUsage blocks() {
        long[] free = new long[1];
        forEachFreeExtent((start, length) -> free[0] += length);
        return new BlockUsage(g.totalBlocks(), g.dataStart(), g.dataBlocks(), g.dataBlocks() - free[0]);
    }

    /** Receives a run of blocks. */
    public interface ExtentVisitor {
        void extent(long start, long length);
    }

    /** Every maximal run of free blocks of the data area, in block order. */
    public void forEachFreeExtent(ExtentVisitor visitor) {
        long end = g.totalBlocks();
        long pos = g.dataStart();
        while (pos < end) {
            long start = nextBit(pos, end, false);
            if (start >= end) {
                break;
            }
            long stop = nextBit(start, end, true);
            visitor.extent(start, stop - start);
            pos = stop;
        }
    }

    /** The free-extent histogram of the data area. */
    public FreeSpaceHistogram freeSpace() {
        FreeSpaceHistogram h = new FreeSpaceHistogram();
        forEachFreeExtent(h::add);
        return h;
    }

    /** First block at or after {@code from} (before {@code end}) whose bitmap bit is {@code set}. */
    private long nextBit(long from, long end, boolean set) {
        long base = g.blockBitmapOffset();
        long w = from >>> 6;
        long word = media.get(LONG, base + w * 8);
        word = (set ? word : ~word) & (-1L << (from & 63));
        while (word == 0) {
            w++;
            if (w << 6 >= end) {
                return end;
            }
            word = media.get(LONG, base + w * 8);
            word = set ? word : ~word;
        }
        return Math.min(end, (w << 6) + Long.numberOfTrailingZeros(word));
    }

    // ------------------------------------------------------------------ inodes

    /** Receives an allocated inode. */
    public interface InodeVisitor {
        /** {@code blocks}: 4 KiB blocks it owns, as its inode records (data, map, attributes). */
        void inode(long ino, int mode, long size, long blocks);
    }

    /** Every allocated inode, in number order. */
    public void forEachInode(InodeVisitor visitor) {
        long words = Geometry.divUp(g.inodeCount(), 64);
        for (long w = 0; w < words; w++) {
            long bits = media.get(LONG, g.inodeBitmapOffset() + w * 8);
            while (bits != 0) {
                long ino = w * 64 + Long.numberOfTrailingZeros(bits) + 1;
                bits &= bits - 1;
                if (ino > g.inodeCount()) {
                    break;
                }
                long off = g.inodeOffset(ino);
                visitor.inode(ino, media.get(INT, off + InodeLayout.MODE), media.get(LONG, off + InodeLayout.SIZE),
                        media.get(LONG, off + InodeLayout.BLOCKS));
            }
        }
    }

    /** Receives a run of data-area blocks an inode owns. */
    public interface OwnerVisitor {
        void owned(long ino, OwnerKind kind, long start, long length);
    }

    /**
     * Every block of the data area an allocated inode owns (orphans included): its data
     * extents, extent-overflow blocks and extended-attribute blocks. Extents that lie outside
     * the data area, and inodes whose maps cannot be read, are left out and noted in
     * {@link #problems()}.
     */
    public void forEachOwnedExtent(OwnerVisitor visitor) {
        forEachInode((ino, mode, size, blocks) -> {
            if (blocks == 0) {
                return; // nothing owned: no map to read (most small special files, empty files)
            }
            int type = FileMode.type(mode);
            OwnerKind kind = type == FileMode.S_IFDIR ? OwnerKind.DIRECTORY
                    : type == FileMode.S_IFLNK ? OwnerKind.SYMLINK : OwnerKind.FILE_DATA;
            try {
                ExtentMap map = ExtentMap.load(media, g.inodeOffset(ino));
                for (long b : map.overflowBlocks()) {
                    visit(visitor, ino, OwnerKind.EXTENT_MAP, b, 1);
                }
                for (FileExtent e : map.extents()) {
                    visit(visitor, ino, kind, e.physical(), e.length());
                }
                XattrCheck.check(media, g, ino, (start, length, what) -> visit(visitor, ino, OwnerKind.XATTR, start,
                        length), problems::add);
            } catch (RuntimeException e) {
                problems.add("inode " + ino + ": block map unreadable: " + e.getMessage());
            }
        });
    }

    private void visit(OwnerVisitor visitor, long ino, OwnerKind kind, long start, long length) {
        if (start < g.dataStart() || length <= 0 || start + length > g.totalBlocks()) {
            problems.add("inode " + ino + ": " + kind + " extent " + start + "+" + length + " lies outside the data area");
            return;
        }
        visitor.owned(ino, kind, start, length);
    }

    // ------------------------------------------------------------------ names

    /**
     * A path ("/a/b") for each of {@code inodes} that the tree from the root reaches (one of
     * them for a file with several names); inodes without a name (orphans) are absent. Stops
     * as soon as every inode is found.
     */
    public Map<Long, String> pathsOf(Set<Long> inodes) {
        Map<Long, String> out = new HashMap<>();
        if (inodes.contains(InodeLayout.ROOT)) {
            out.put(InodeLayout.ROOT, "/");
        }
        ArrayDeque<Long> dirs = new ArrayDeque<>();
        Map<Long, String> dirPaths = new HashMap<>();
        dirs.add(InodeLayout.ROOT);
        dirPaths.put(InodeLayout.ROOT, "");
        Set<Long> seen = new HashSet<>();
        while (!dirs.isEmpty() && out.size() < inodes.size()) {
            long dir = dirs.poll();
            if (!seen.add(dir)) {
                continue;
            }
            String prefix = dirPaths.get(dir);
            Directory d;
            try {
                d = Directory.load(media, ExtentMap.load(media, g.inodeOffset(dir)));
            } catch (RuntimeException e) {
                problems.add("directory inode " + dir + " unreadable: " + e.getMessage());
                continue;
            }
            var entries = d.snapshot();
            entries.sort(Map.Entry.comparingByKey());
            for (var e : entries) {
                long ino = e.getValue().ino();
                String path = prefix + "/" + e.getKey();
                if (inodes.contains(ino)) {
                    out.putIfAbsent(ino, path);
                }
                if (e.getValue().type() == DirentLayout.DT_DIR && ino >= 1 && ino <= g.inodeCount()) {
                    dirPaths.putIfAbsent(ino, path);
                    dirs.add(ino);
                }
            }
        }
        return out;
    }

    /** The metadata regions in device order: name, first block, blocks. */
    public List<Region> regions() {
        return Arrays.asList(
                new Region("superblocks", 0, 2),
                new Region("journal", g.journalStart(), g.journalBlocks()),
                new Region("inode bitmap", g.inodeBitmapStart(), g.inodeBitmapBlocks()),
                new Region("block bitmap", g.blockBitmapStart(), g.blockBitmapBlocks()),
                new Region("bitmap checksums", g.checksumTableStart(), g.checksumTableBlocks()),
                new Region("inode table", g.inodeTableStart(), g.dataStart() - g.inodeTableStart()),
                new Region("data", g.dataStart(), g.dataBlocks()));
    }

    /** A region of the device: {@code blocks} blocks from {@code start}. */
    public record Region(String name, long start, long blocks) {
    }
}
