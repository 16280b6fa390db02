package io.daxfs.core.check;

import io.daxfs.core.base.FileMode;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeCheck;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.journal.Journal;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * One pass of fsck over a device (or a private copy of it), in phases: bitmaps' checksums,
 * inodes, the orphan list, block maps and attributes and who owns each block
 * ({@link BlockMaps}), directories and the tree ({@link TreeScan}), link counts, block counts
 * and sizes, and the bitmaps against what is owned ({@link Bitmaps}).
 *
 * <p>Every finding is an error of the report. When repairing ({@code fixes} not null), each
 * finding also says what is done about it, the writes go to {@link Fixes}, and the model
 * ({@link Node}) changes as decided, so that later phases see the file system as the repair
 * will leave it. The device itself is never written here.
 */
final class Scan {
    final MemorySegment media;
    final Geometry g;
    final Checksums checksums;
    final FsckReport report;
    /** Null: check only. */
    final Fixes fixes;
    private final FsChecker.Progress progress;
    /** Inodes in use (as decided), by number. */
    final TreeMap<Long, Node> nodes = new TreeMap<>();
    /** Blocks owned: metadata, and what inodes claim. */
    final BitSet owned;
    /** Bitmap blocks whose checksum fails (numbered from the first inode-bitmap block). */
    BitSet badBitmaps = new BitSet();
    private long done;
    private long total;

    Scan(MemorySegment media, Checksums checksums, FsckReport report, Fixes fixes, FsChecker.Progress progress) {
        this.media = media;
        this.g = checksums.geometry();
        this.checksums = checksums;
        this.report = report;
        this.fixes = fixes;
        this.progress = progress;
        this.owned = new BitSet((int) Math.min(Integer.MAX_VALUE, g.totalBlocks()));
        owned.set(0, (int) g.dataStart());
    }

    boolean repairing() {
        return fixes != null;
    }

    /** A finding, and (when repairing) what is done about it; the caller makes the writes. */
    void problem(String finding, String action) {
        report.error(finding);
        if (fixes != null) {
            report.repaired(finding, action);
        }
    }

    void advance() {
        done++;
        if ((done & 1023) == 0 || done == total) {
            progress.advanced(Math.min(done, total), total);
        }
    }

    void run() {
        Bitmaps bitmaps = new Bitmaps(this);
        badBitmaps = bitmaps.checksums();
        inodes();
        orphans();
        total = 2L * nodes.size();
        progress.advanced(0, total);
        new BlockMaps(this).run();
        TreeScan tree = new TreeScan(this);
        tree.run();
        countsAndSizes();
        bitmaps.compare();
        progress.advanced(total, total);
        long dirs = nodes.values().stream().filter(n -> n.dir).count();
        long used = owned.cardinality();
        report.counts(nodes.size(), dirs, nodes.size() - dirs, used, g.totalBlocks() - used);
    }

    /** Inodes that {@link #run} puts in /lost+found: {ino, 1 if a directory}. */
    List<long[]> lost() {
        List<long[]> out = new ArrayList<>();
        for (Node n : nodes.values()) {
            if (n.lost) {
                out.add(new long[] {n.ino, n.dir ? 1 : 0});
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ inodes

    boolean bitmapBit(long bitmapOffset, long bit) {
        return (media.get(ValueLayout.JAVA_BYTE, bitmapOffset + (bit >>> 3)) & (1 << (bit & 7))) != 0;
    }

    /**
     * Which inodes are in use: the bitmap says so where its block passes its checksum; where
     * it does not, an inode is in use if its mode is set and it passes its own checksum (a
     * freed inode has mode 0; one of an earlier mkfs fails the checksum, which is seeded with
     * the file system's UUID).
     */
    private void inodes() {
        long perBlock = 8L * Geometry.BLOCK_SIZE;
        for (long ino = 1; ino <= g.inodeCount(); ino++) {
            long bit = ino - 1;
            boolean trustedBits = !badBitmaps.get((int) (bit / perBlock));
            if (trustedBits && (bit & 63) == 0 && bit + 64 <= g.inodeCount()
                    && media.get(MediaOrder.LONG, g.inodeBitmapOffset() + (bit >>> 3)) == 0) {
                ino += 63;
                continue;
            }
            boolean inUse = trustedBits ? bitmapBit(g.inodeBitmapOffset(), bit)
                    : mode(ino) != 0 && checksums.inodeOk(media, ino);
            if (inUse) {
                inode(ino);
            }
        }
        Node root = nodes.get(InodeLayout.ROOT);
        if (root == null || !root.dir) {
            problem("the root inode is not an allocated directory", "made a new, empty root directory (what it held"
                    + " goes to /lost+found)");
            if (root != null) {
                nodes.remove(InodeLayout.ROOT);
            }
            newRoot();
        }
    }

    int mode(long ino) {
        return media.get(MediaOrder.INT, g.inodeOffset(ino) + InodeLayout.MODE);
    }

    long field(long ino, int offset) {
        return media.get(MediaOrder.LONG, g.inodeOffset(ino) + offset);
    }

    int intField(long ino, int offset) {
        return media.get(MediaOrder.INT, g.inodeOffset(ino) + offset);
    }

    private void inode(long ino) {
        List<InodeCheck.Finding> findings = InodeCheck.findings(media, checksums, ino);
        long o = g.inodeOffset(ino);
        for (InodeCheck.Finding f : findings) {
            if (f.fault() == InodeCheck.Fault.MODE) {
                problem(f.message(), "cleared the inode");
                clearInode(ino);
                return;
            }
        }
        int mode = mode(ino);
        Node n = new Node(ino, mode, FileMode.isDirectory(mode));
        n.flags = intField(ino, InodeLayout.FLAGS);
        n.nlink = Integer.toUnsignedLong(intField(ino, InodeLayout.NLINK));
        n.overflowHead = field(ino, InodeLayout.OVERFLOW);
        n.xattrHead = field(ino, InodeLayout.XATTR);
        for (InodeCheck.Finding f : findings) {
            switch (f.fault()) {
                case CHECKSUM -> {
                    n.trusted = false;
                    problem(f.message(), "recomputed it");
                    if (fixes != null) {
                        fixes.seal(Checksums.Kind.INODE, o);
                    }
                }
                case FLAGS -> {
                    problem(f.message(), "cleared the unknown flags");
                    n.flags &= InodeLayout.KNOWN_FLAGS;
                    if (fixes != null) {
                        fixes.putInt(o + InodeLayout.FLAGS, n.flags);
                    }
                }
                case OVERFLOW -> {
                    problem(f.message(), "dropped the extent overflow chain (the extents it held are lost)");
                    n.overflowHead = 0;
                    if (fixes != null) {
                        fixes.putLong(o + InodeLayout.OVERFLOW, 0);
                    }
                }
                case XATTR -> {
                    problem(f.message(), "dropped its extended attributes");
                    n.xattrHead = 0;
                    if (fixes != null) {
                        fixes.putLong(o + InodeLayout.XATTR, 0);
                    }
                }
                case NEXT_ORPHAN -> {
                    problem(f.message(), "cleared the link");
                    if (fixes != null) {
                        fixes.putLong(o + InodeLayout.NEXT_ORPHAN, 0);
                    }
                }
                case SIZE -> n.badSize = true; // fixed with the block counts, once the map is known
                default -> { } // link count, block count, parent: found again and fixed by later phases
            }
        }
        nodes.put(ino, n);
    }

    /** Writes inode {@code ino} as a freed one: mode 0, no links, blocks or links to anything. */
    void clearInode(long ino) {
        nodes.remove(ino);
        if (fixes == null) {
            return;
        }
        ByteBuffer b = MediaOrder.allocate(Geometry.INODE_SIZE);
        b.putInt(InodeLayout.GENERATION, intField(ino, InodeLayout.GENERATION));
        fixes.write(g.inodeOffset(ino), b.array());
    }

    /** A fresh, empty root directory, as mkfs makes it. */
    private void newRoot() {
        Node root = new Node(InodeLayout.ROOT, FileMode.S_IFDIR | 0755, true);
        root.nlink = 2;
        root.fresh = true;
        nodes.put(InodeLayout.ROOT, root);
        if (fixes == null) {
            return;
        }
        long now = System.currentTimeMillis() / 1000;
        ByteBuffer b = MediaOrder.allocate(Geometry.INODE_SIZE);
        b.putInt(InodeLayout.MODE, root.mode).putInt(InodeLayout.NLINK, 2);
        for (int t : new int[] {InodeLayout.ATIME, InodeLayout.MTIME, InodeLayout.CTIME, InodeLayout.BTIME}) {
            b.putLong(t, now);
        }
        b.putInt(InodeLayout.GENERATION, intField(InodeLayout.ROOT, InodeLayout.GENERATION) + 1);
        b.putLong(InodeLayout.PARENT, InodeLayout.ROOT);
        fixes.write(g.inodeOffset(InodeLayout.ROOT), b.array());
    }

    // ------------------------------------------------------------------ orphans

    /**
     * The orphan list: its members are freed at the next mount, so a check notes them (their
     * blocks are still owned), and a repair frees them as a mount would. The list stops at
     * its first member that is not a sound orphan; orphans it does not reach are found again
     * as unnamed inodes with the orphan flag ({@link TreeScan}). A member may be a directory:
     * one removed or renamed over while open stays, empty and with link count 0, until its
     * last release.
     */
    private void orphans() {
        long head = Journal.ORPHAN_HEAD + g.journalOffset();
        long ino = media.get(MediaOrder.LONG, head);
        Set<Long> seen = new HashSet<>();
        List<Node> list = new ArrayList<>();
        while (ino != 0) {
            Node n = ino >= 1 && ino <= g.inodeCount() ? nodes.get(ino) : null;
            if (n == null || !seen.add(ino) || n.nlink != 0 || (n.flags & InodeLayout.FLAG_ORPHAN) == 0) {
                problem("the orphan list is damaged at inode " + ino, "ended it there");
                break;
            }
            n.orphan = true;
            list.add(n);
            ino = field(ino, InodeLayout.NEXT_ORPHAN);
        }
        if (!repairing()) {
            long blocks = 0;
            for (Node n : list) {
                blocks += field(n.ino, InodeLayout.BLOCKS);
            }
            if (!list.isEmpty()) {
                report.note(list.size() + " orphaned inode(s) holding " + blocks + " block(s) (files unlinked while"
                        + " open, or being freed) will be freed at the next mount");
            }
            return;
        }
        for (Node n : list) {
            report.repaired("orphaned inode " + n.ino + " (" + field(n.ino, InodeLayout.BLOCKS) + " block(s))",
                    "freed it, as a mount would");
            clearInode(n.ino);
        }
        if (media.get(MediaOrder.LONG, head) != 0) {
            fixes.putLong(head, 0);
        }
    }

    // ------------------------------------------------------------------ counts

    /** Link counts, the orphan flag, block counts and sizes, as the tree and the maps say. */
    private void countsAndSizes() {
        for (Node n : nodes.values()) {
            long o = g.inodeOffset(n.ino);
            long links = n.orphan && !n.reached ? 0 : n.dir ? 2 + n.subdirs : n.names + (n.lost ? 1 : 0);
            if (n.nlink != links) {
                problem("inode " + n.ino + " has link count " + n.nlink + " but " + (n.dir
                        ? n.subdirs + " subdirectories" : n.names + " name(s)"), "set it to " + links);
                if (fixes != null) {
                    fixes.putInt(o + InodeLayout.NLINK, (int) links);
                }
            }
            if (n.orphan && n.reached) {
                problem("orphan inode " + n.ino + " still has a name", "took it off the orphan list");
            }
            if ((n.flags & InodeLayout.FLAG_ORPHAN) != 0 && !n.orphan) {
                problem("inode " + n.ino + " has the orphan flag but a name", "cleared the flag");
                if (fixes != null) {
                    fixes.putInt(o + InodeLayout.FLAGS, n.flags & ~InodeLayout.FLAG_ORPHAN);
                }
            }
            long blocks = field(n.ino, InodeLayout.BLOCKS);
            if (blocks != n.ownedBlocks()) {
                problem("inode " + n.ino + " records " + blocks + " blocks but owns " + n.ownedBlocks(),
                        "set it to " + n.ownedBlocks());
                if (fixes != null) {
                    fixes.putLong(o + InodeLayout.BLOCKS, n.ownedBlocks());
                }
            }
            size(n);
        }
    }

    private void size(Node n) {
        long size = field(n.ino, InodeLayout.SIZE);
        long want;
        if (n.dir) {
            want = n.lastLogicalEnd() * Geometry.BLOCK_SIZE;
        } else if (!n.badSize) {
            return;
        } else if (FileMode.type(n.mode) == FileMode.S_IFLNK) {
            want = symlinkLength(n);
        } else {
            want = FileMode.isRegular(n.mode) ? n.lastLogicalEnd() * Geometry.BLOCK_SIZE : 0;
        }
        if (size != want) {
            problem("inode " + n.ino + " has size " + size + (n.dir ? " but " + n.lastLogicalEnd() + " blocks" : ""),
                    "set it to " + want);
            if (fixes != null) {
                fixes.putLong(g.inodeOffset(n.ino) + InodeLayout.SIZE, want);
            }
        }
    }

    /** A symbolic link's target ends at the first NUL of its block (at most 4095 bytes); 1 if it has no block. */
    private long symlinkLength(Node n) {
        for (Node.Ext e : n.extents) {
            if (e.logical == 0) {
                long base = Geometry.blockOffset(e.physical);
                for (int i = 0; i < Geometry.BLOCK_SIZE - 1; i++) {
                    if (media.get(ValueLayout.JAVA_BYTE, base + i) == 0) {
                        return Math.max(1, i);
                    }
                }
                return Geometry.BLOCK_SIZE - 1;
            }
        }
        return 1;
    }
}
