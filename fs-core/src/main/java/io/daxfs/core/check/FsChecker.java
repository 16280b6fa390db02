package io.daxfs.core.check;

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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A read-only consistency check: nothing is ever written to the device.
 *
 * <p>If the journal holds a committed transaction that a mount would replay, the check runs
 * against a private in-memory copy with that transaction applied (the state the next mount
 * will see), and says so.
 *
 * <p>What is checked: superblock and geometry; the namespace tree from the root (every entry
 * names an allocated inode of the type the entry claims; directories have one name and a
 * correct parent; link counts equal the names found, 2 + subdirectories for directories);
 * every extent, overflow block and extended-attribute block lies in the data area and is owned
 * once (attribute indexes are validated: CRC, entries, recorded block total); the stored block
 * count matches; the block bitmap equals the set of owned blocks (no leaks, no blocks in use
 * but marked free); every allocated inode is reachable or on the orphan list.
 */
public final class FsChecker {
    /** Largest device copied into memory when a journal replay must be simulated. */
    static final long MAX_PRIVATE_COPY = 8L << 30;
    private static final ValueLayout.OfLong LONG = MediaOrder.LONG;
    private static final ValueLayout.OfInt INT = MediaOrder.INT;

    private final FsckReport report = new FsckReport();
    private MemorySegment media;
    private Geometry g;
    private BitSet owned;
    private BitSet inodeUsed;

    private FsChecker() {
    }

    public static FsckReport check(MemorySegment device) {
        FsChecker c = new FsChecker();
        try (Arena arena = Arena.ofConfined()) {
            c.run(device, arena);
        } catch (CorruptFileSystemException e) {
            c.report.fatal(e.getMessage());
        } catch (RuntimeException e) {
            c.report.error("checker stopped on damaged metadata: " + e);
        }
        return c.report;
    }

    private void run(MemorySegment device, Arena arena) {
        Superblock sb = Superblock.read(device);
        g = sb.geometry();
        media = device;
        Journal.PendingTransaction pending = Journal.inspect(device, g);
        if (pending != null) {
            if (device.byteSize() > MAX_PRIVATE_COPY) {
                report.fatal("the journal holds committed transaction " + pending.seq()
                        + " that the next mount will replay; mount the file system once, then check again");
                return;
            }
            MemorySegment copy = arena.allocate(device.byteSize(), 4096);
            copy.copyFrom(device);
            pending.forEachRecord((off, data) -> MemorySegment.copy(data, 0, copy, ValueLayout.JAVA_BYTE, off, data.length));
            media = copy;
            report.note("journal transaction " + pending.seq() + " is committed but not applied; "
                    + "checked the state the next mount will see after replaying it");
        }
        owned = new BitSet((int) Math.min(Integer.MAX_VALUE, g.totalBlocks()));
        owned.set(0, (int) g.dataStart());
        inodeUsed = readBitmap(g.inodeBitmapOffset(), g.inodeCount());
        walk();
        compareBlockBitmap();
    }

    private BitSet readBitmap(long offset, long bits) {
        long words = Geometry.divUp(bits, 64);
        long[] w = new long[(int) words];
        for (int i = 0; i < words; i++) {
            w[i] = media.get(LONG, offset + i * 8L);
        }
        BitSet b = BitSet.valueOf(w);
        if (b.length() > bits) {
            b.clear((int) bits, b.length());
        }
        return b;
    }

    private long inodeOffset(long ino) {
        return g.inodeOffset(ino);
    }

    private void walk() {
        Map<Long, Integer> namesFound = new HashMap<>();
        Map<Long, Long> subdirs = new HashMap<>();
        Set<Long> seenDirs = new HashSet<>();
        Set<Long> checked = new HashSet<>();
        ArrayDeque<long[]> queue = new ArrayDeque<>(); // {dir ino, parent ino}
        long root = 1;
        if (!inodeUsed.get(0) || !FileMode.isDirectory(media.get(INT, inodeOffset(root)))) {
            report.error("root inode 1 is not an allocated directory");
            return;
        }
        queue.add(new long[] {root, root});
        long dirCount = 0;
        long fileCount = 0;
        while (!queue.isEmpty()) {
            long[] item = queue.poll();
            long dir = item[0];
            if (!seenDirs.add(dir)) {
                report.error("directory inode " + dir + " is reachable by more than one path");
                continue;
            }
            dirCount++;
            ExtentMap map = checkBlocks(dir);
            checked.add(dir);
            if (map == null) {
                continue;
            }
            long parentField = media.get(LONG, inodeOffset(dir) + InodeLayout.PARENT);
            if (parentField != item[1]) {
                report.error("directory inode " + dir + " records parent " + parentField + " but is listed in " + item[1]);
            }
            long size = media.get(LONG, inodeOffset(dir) + InodeLayout.SIZE);
            if (size != map.mappedBlocks() * Geometry.BLOCK_SIZE) {
                report.error("directory inode " + dir + " has size " + size + " but " + map.mappedBlocks() + " blocks");
            }
            Directory d;
            try {
                d = Directory.load(media, map);
            } catch (RuntimeException e) {
                report.error("directory inode " + dir + ": " + e.getMessage());
                continue;
            }
            long sub = 0;
            for (var e : d.snapshot()) {
                String name = e.getKey();
                long ino = e.getValue().ino();
                if (ino < 1 || ino > g.inodeCount() || !inodeUsed.get((int) (ino - 1))) {
                    report.error("entry '" + name + "' in directory " + dir + " points at free inode " + ino);
                    continue;
                }
                int mode = media.get(INT, inodeOffset(ino) + InodeLayout.MODE);
                int type = DirentLayout.typeOf(mode);
                if (mode == 0 || type == DirentLayout.DT_UNKNOWN) {
                    report.error("inode " + ino + " ('" + name + "') has invalid mode " + Integer.toOctalString(mode));
                    continue;
                }
                if (type != e.getValue().type()) {
                    report.error("entry '" + name + "' in directory " + dir + " says type " + e.getValue().type()
                            + " but inode " + ino + " is type " + type);
                }
                if (type == DirentLayout.DT_DIR) {
                    sub++;
                    queue.add(new long[] {ino, dir});
                } else {
                    namesFound.merge(ino, 1, Integer::sum);
                    if (checked.add(ino)) {
                        fileCount++;
                        checkBlocks(ino);
                    }
                }
            }
            subdirs.put(dir, sub);
        }
        for (var e : subdirs.entrySet()) {
            long nlink = Integer.toUnsignedLong(media.get(INT, inodeOffset(e.getKey()) + InodeLayout.NLINK));
            if (nlink != 2 + e.getValue()) {
                report.error("directory inode " + e.getKey() + " has link count " + nlink + ", expected " + (2 + e.getValue()));
            }
        }
        for (var e : namesFound.entrySet()) {
            long nlink = Integer.toUnsignedLong(media.get(INT, inodeOffset(e.getKey()) + InodeLayout.NLINK));
            if (nlink != e.getValue()) {
                report.error("inode " + e.getKey() + " has link count " + nlink + " but " + e.getValue() + " name(s)");
            }
        }
        Set<Long> orphans = orphans();
        long orphanBlocks = 0;
        for (long ino : orphans) {
            if (!checkOrphan(ino, namesFound.containsKey(ino) || seenDirs.contains(ino))) {
                continue;
            }
            if (checked.add(ino)) {
                checkBlocks(ino);
            }
            orphanBlocks += media.get(LONG, inodeOffset(ino) + InodeLayout.BLOCKS);
        }
        for (int i = inodeUsed.nextSetBit(0); i >= 0; i = inodeUsed.nextSetBit(i + 1)) {
            long ino = i + 1L;
            if (!checked.contains(ino)) {
                report.error("inode " + ino + " is allocated but has no name (leaked)");
            }
        }
        if (!orphans.isEmpty()) {
            report.note(orphans.size() + " orphaned inode(s) holding " + orphanBlocks
                    + " block(s) (files unlinked while open, or being freed) will be freed at the next mount");
        }
        long used = owned.cardinality();
        report.counts(checked.size(), dirCount, checked.size() - dirCount, used, g.totalBlocks() - used);
    }

    /**
     * An orphan is an allocated inode whose last name is gone (link count 0, orphan flag): a
     * file unlinked while open, or one too large to free at once. Its blocks are still owned
     * (and counted as used) until the next mount frees it. Returns whether its blocks can be
     * checked.
     */
    private boolean checkOrphan(long ino, boolean named) {
        if (!inodeUsed.get((int) (ino - 1))) {
            report.error("orphan list holds free inode " + ino);
            return false;
        }
        long nlink = Integer.toUnsignedLong(media.get(INT, inodeOffset(ino) + InodeLayout.NLINK));
        int flags = media.get(INT, inodeOffset(ino) + InodeLayout.FLAGS);
        if (named) {
            report.error("orphan inode " + ino + " still has a name");
        }
        if (nlink != 0) {
            report.error("orphan inode " + ino + " has link count " + nlink + ", expected 0");
        }
        if ((flags & InodeLayout.FLAG_ORPHAN) == 0) {
            report.error("orphan inode " + ino + " lacks the orphan flag");
        }
        return true;
    }

    private Set<Long> orphans() {
        Set<Long> out = new HashSet<>();
        long ino = media.get(LONG, g.journalOffset() + 16);
        while (ino != 0) {
            if (ino < 1 || ino > g.inodeCount() || !out.add(ino)) {
                report.error("orphan list is damaged at inode " + ino);
                break;
            }
            ino = media.get(LONG, inodeOffset(ino) + InodeLayout.NEXT_ORPHAN);
        }
        return out;
    }

    /** Checks and claims the blocks of one inode; returns its map, or null if unreadable. */
    private ExtentMap checkBlocks(long ino) {
        ExtentMap map;
        try {
            map = ExtentMap.load(media, inodeOffset(ino));
        } catch (RuntimeException e) {
            report.error("inode " + ino + ": extent map unreadable: " + e.getMessage());
            return null;
        }
        for (long blk : map.overflowBlocks()) {
            claim(ino, blk, 1, "extent overflow block");
        }
        long prevEnd = -1;
        for (FileExtent e : map.extents()) {
            if (e.logical() < prevEnd) {
                report.error("inode " + ino + ": extents overlap at logical block " + e.logical());
            }
            prevEnd = e.logicalEnd();
            claim(ino, e.physical(), e.length(), "data extent");
        }
        long xattrBlocks = XattrCheck.check(media, g, ino, (start, length, what) -> claim(ino, start, length, what),
                report::error);
        long blocks = media.get(LONG, inodeOffset(ino) + InodeLayout.BLOCKS);
        long expected = map.mappedBlocks() + map.overflowBlocks().size() + xattrBlocks;
        if (blocks != expected) {
            report.error("inode " + ino + " records " + blocks + " blocks but owns " + expected);
        }
        return map;
    }

    private void claim(long ino, long start, long length, String what) {
        if (start < g.dataStart() || start + length > g.totalBlocks()) {
            report.error("inode " + ino + ": " + what + " " + start + "+" + length + " lies outside the data area");
            return;
        }
        int s = (int) start;
        int e = (int) (start + length);
        int clash = owned.nextSetBit(s);
        if (clash >= 0 && clash < e) {
            report.error("inode " + ino + ": " + what + " " + start + "+" + length + " overlaps block " + clash
                    + " owned elsewhere");
        }
        owned.set(s, e);
    }

    private void compareBlockBitmap() {
        BitSet bitmap = readBitmap(g.blockBitmapOffset(), g.totalBlocks());
        BitSet leaked = (BitSet) bitmap.clone();
        leaked.andNot(owned);
        BitSet unmarked = (BitSet) owned.clone();
        unmarked.andNot(bitmap);
        if (!leaked.isEmpty()) {
            report.error(leaked.cardinality() + " block(s) marked in use but owned by nothing (leaked), first "
                    + leaked.nextSetBit(0));
        }
        if (!unmarked.isEmpty()) {
            report.error(unmarked.cardinality() + " block(s) in use but marked free, first " + unmarked.nextSetBit(0));
        }
    }
}
