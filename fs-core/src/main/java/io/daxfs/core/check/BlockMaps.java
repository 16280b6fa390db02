package io.daxfs.core.check;

import io.daxfs.core.alloc.Extent;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.CorruptFileSystemException;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.ExtentSlots;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.core.xattr.XattrCheck;
import io.daxfs.devdax.MediaOrder;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * fsck's block maps and attributes, and who owns each block.
 *
 * <p>Reading: every slot (inline, then along the overflow chain) must map a range of the data
 * area below the largest file size, or it is dropped; the chain ends at the first block that
 * is outside the data area, repeats, or lacks its magic or owner (cut there: the extents it
 * held are lost); a block that only fails its checksum is resealed. Extents that overlap
 * logically: the later is dropped. Special files own no blocks. Attributes that do not decode
 * are dropped; an out-of-line value that fails its CRC is removed from the index.
 *
 * <p>Ownership: inodes whose checksums all matched claim their blocks first, in inode order,
 * then the others; so when damage makes an inode name another's blocks, the damaged one is
 * the one that loses them. A block claimed twice stays with its first owner; the later one
 * loses that range (its extent is cut to the part it alone owns, the rest reads as a hole),
 * its overflow chain is cut before the shared block, its attributes are dropped.
 */
final class BlockMaps {
    private final Scan s;
    private final Geometry g;

    BlockMaps(Scan s) {
        this.s = s;
        this.g = s.g;
    }

    void run() {
        for (Node n : List.copyOf(s.nodes.values())) {
            read(n);
            s.advance();
        }
        for (Node n : s.nodes.values()) {
            if (n.trusted) {
                claim(n);
            }
        }
        for (Node n : s.nodes.values()) {
            if (!n.trusted) {
                claim(n);
            }
        }
    }

    // ------------------------------------------------------------------ reading

    private void read(Node n) {
        if (n.fresh) {
            return; // nothing of it is on the media yet (Node#fresh)
        }
        long o = g.inodeOffset(n.ino);
        for (int i = 0; i < InodeLayout.INLINE_SLOT_COUNT; i++) {
            slot(n, o + InodeLayout.INLINE_SLOTS + (long) i * ExtentSlots.SLOT_SIZE);
        }
        long link = o + InodeLayout.OVERFLOW;
        long next = n.overflowHead;
        Set<Long> seen = new HashSet<>();
        while (next != 0) {
            long base = Geometry.blockOffset(next);
            String why = null;
            if (!g.inDataArea(next, 1)) {
                why = "lies outside the data area";
            } else if (!seen.add(next)) {
                why = "is in the chain twice";
            } else if (s.media.get(MediaOrder.INT, base + ExtentSlots.OVERFLOW_MAGIC) != ExtentSlots.OVERFLOW_MAGIC_VALUE) {
                why = "has no overflow-block magic";
            } else if (s.media.get(MediaOrder.LONG, base + ExtentSlots.OVERFLOW_OWNER) != n.ino) {
                why = "belongs to inode " + s.media.get(MediaOrder.LONG, base + ExtentSlots.OVERFLOW_OWNER);
            }
            if (why != null) {
                n.trusted = false;
                s.problem("inode " + n.ino + ": extent overflow block " + next + " " + why,
                        "cut the chain there (the extents it held are lost)");
                setLink(link, 0);
                break;
            }
            if (!s.checksums.verify(Checksums.Kind.OVERFLOW, s.media, base)) {
                n.trusted = false;
                s.problem("inode " + n.ino + ": extent overflow block " + next + " fails its checksum", "recomputed it");
                if (s.fixes != null) {
                    s.fixes.seal(Checksums.Kind.OVERFLOW, base);
                }
            }
            n.overflow.add(next);
            for (int i = 0; i < ExtentSlots.SLOTS_PER_OVERFLOW_BLOCK; i++) {
                slot(n, base + ExtentSlots.OVERFLOW_HEADER + (long) i * ExtentSlots.SLOT_SIZE);
            }
            link = base + ExtentSlots.OVERFLOW_NEXT;
            next = s.media.get(MediaOrder.LONG, link);
        }
        int type = FileMode.type(n.mode);
        if (type != FileMode.S_IFREG && type != FileMode.S_IFDIR && type != FileMode.S_IFLNK
                && (!n.extents.isEmpty() || !n.overflow.isEmpty())) {
            s.problem("special inode " + n.ino + " maps blocks", "dropped its block map");
            for (Node.Ext e : List.copyOf(n.extents)) {
                drop(n, e);
            }
            if (!n.overflow.isEmpty()) {
                setLink(o + InodeLayout.OVERFLOW, 0);
                n.overflow.clear();
            }
        }
        n.extents.sort(Comparator.comparingLong(e -> e.logical));
        long end = -1;
        for (Node.Ext e : List.copyOf(n.extents)) {
            if (e.logical < end) {
                s.problem("inode " + n.ino + ": extents overlap at logical block " + e.logical, "dropped the later one");
                drop(n, e);
            } else {
                end = e.logicalEnd();
            }
        }
        attributes(n);
    }

    private void slot(Node n, long off) {
        long w1 = s.media.get(MediaOrder.LONG, off + 8);
        long len = ExtentSlots.length(w1);
        if (len == 0) {
            n.freeSlots.add(off);
            return;
        }
        long lblk = s.media.get(MediaOrder.LONG, off);
        long pblk = ExtentSlots.physical(w1);
        if (!g.inDataArea(pblk, len) || lblk < 0 || lblk > ExtentSlots.MAX_FILE_BLOCKS - len) {
            n.trusted = false;
            s.problem("inode " + n.ino + ": extent " + pblk + "+" + len + " at logical block " + lblk
                    + " lies outside the data area", "dropped it");
            zeroSlot(off);
            n.freeSlots.add(off);
            return;
        }
        n.extents.add(new Node.Ext(off, lblk, pblk, len));
    }

    private void attributes(Node n) {
        if (n.xattrHead == 0) {
            return;
        }
        XattrCheck.Attributes a;
        try {
            a = XattrCheck.inspect(s.media, g, n.ino);
        } catch (CorruptFileSystemException e) {
            n.trusted = false;
            s.problem("extended attributes unreadable: " + e.getMessage(), "dropped them");
            dropAttributes(n);
            return;
        }
        if (!a.problems().isEmpty()) {
            s.problem("inode " + n.ino + ": " + a.problems().getFirst(), "dropped its extended attributes");
            dropAttributes(n);
            return;
        }
        List<Extent> extents = new ArrayList<>(a.areaExtents());
        for (Map.Entry<String, List<Extent>> v : a.values().entrySet()) {
            if (!s.repairing() || !a.badValues().contains(v.getKey())) {
                extents.addAll(v.getValue());
            }
        }
        for (String bad : a.badValues()) {
            s.problem("inode " + n.ino + ": value of extended attribute '" + bad + "' fails its CRC",
                    "removed the attribute");
        }
        if (s.repairing() && !a.badValues().isEmpty()) {
            long[] left = new long[1];
            s.fixes.atomically(() -> left[0] = XattrCheck.removeFrom(s.media, g, n.ino, a.badValues(), s.fixes::write));
            if (left[0] < 0) {
                dropAttributes(n);
                return;
            }
        }
        n.xattrExtents = extents;
        n.xattrBlocks = 0;
        for (Extent e : extents) {
            n.xattrBlocks += e.length();
        }
    }

    private void dropAttributes(Node n) {
        n.xattrHead = 0;
        n.xattrExtents = List.of();
        n.xattrBlocks = 0;
        if (s.fixes != null) {
            s.fixes.putLong(g.inodeOffset(n.ino) + InodeLayout.XATTR, 0);
        }
    }

    // ------------------------------------------------------------------ ownership

    private void claim(Node n) {
        for (int i = 0; i < n.overflow.size(); i++) {
            long b = n.overflow.get(i);
            if (s.owned.get((int) b)) {
                s.problem("inode " + n.ino + ": extent overflow block " + b + " is also owned by another inode",
                        "cut the chain before it (the extents it held are lost)");
                setLink(i == 0 ? g.inodeOffset(n.ino) + InodeLayout.OVERFLOW : Geometry.blockOffset(n.overflow.get(i - 1)),
                        0);
                Set<Long> cut = new HashSet<>(n.overflow.subList(i, n.overflow.size()));
                n.extents.removeIf(e -> cut.contains(e.slot >>> Geometry.BLOCK_SHIFT));
                n.freeSlots.removeIf(slot -> cut.contains(slot >>> Geometry.BLOCK_SHIFT));
                n.overflow.subList(i, n.overflow.size()).clear();
                break;
            }
            s.owned.set((int) b);
        }
        for (Node.Ext e : List.copyOf(n.extents)) {
            claimExtent(n, e);
        }
        List<Extent> claimed = new ArrayList<>();
        for (Extent x : n.xattrExtents) {
            if (s.owned.get((int) x.start(), (int) x.end()).isEmpty()) {
                s.owned.set((int) x.start(), (int) x.end());
                claimed.add(x);
                continue;
            }
            for (Extent c : claimed) {
                s.owned.clear((int) c.start(), (int) c.end());
            }
            s.problem("inode " + n.ino + ": extended attribute blocks " + x.start() + "+" + x.length()
                    + " are also owned by another inode", "dropped its extended attributes");
            dropAttributes(n);
            return;
        }
    }

    /** Claims what of {@code e} no one owns yet; the rest leaves the file (a hole). */
    private void claimExtent(Node n, Node.Ext e) {
        List<long[]> runs = new ArrayList<>();
        long p = e.physical;
        long end = e.physical + e.length;
        while (p < end) {
            int free = s.owned.nextClearBit((int) p);
            if (free >= end) {
                break;
            }
            int used = s.owned.nextSetBit(free);
            long runEnd = used < 0 || used > end ? end : used;
            runs.add(new long[] {free, runEnd - free});
            p = runEnd;
        }
        if (runs.size() == 1 && runs.getFirst()[0] == e.physical && runs.getFirst()[1] == e.length) {
            s.owned.set((int) e.physical, (int) end);
            return;
        }
        String finding = "inode " + n.ino + ": blocks of extent " + e.physical + "+" + e.length + " (logical "
                + e.logical + ") are also owned by another inode";
        if (runs.isEmpty()) {
            s.problem(finding, "dropped the extent: the blocks stay with their first owner and this range of the"
                    + " file reads as zeros");
            drop(n, e);
            return;
        }
        s.problem(finding, "kept the blocks it alone owns; the shared ones stay with their first owner and read"
                + " as zeros here");
        long logical = e.logical;
        long physical = e.physical;
        boolean first = true;
        for (long[] r : runs) {
            long lblk = logical + (r[0] - physical);
            if (first) {
                e.logical = lblk;
                e.physical = r[0];
                e.length = r[1];
                writeSlot(e.slot, lblk, r[0], r[1]);
                first = false;
            } else if (!n.freeSlots.isEmpty()) {
                long slot = n.freeSlots.removeFirst();
                n.extents.add(new Node.Ext(slot, lblk, r[0], r[1]));
                writeSlot(slot, lblk, r[0], r[1]);
            } else {
                continue; // no slot left for this piece: it is lost too
            }
            s.owned.set((int) r[0], (int) (r[0] + r[1]));
        }
        n.extents.sort(Comparator.comparingLong(x -> x.logical));
    }

    /** Forgets the claims of a node the tree phase frees (an orphan found unnamed). */
    void unclaim(Node n) {
        for (Node.Ext e : n.extents) {
            s.owned.clear((int) e.physical, (int) (e.physical + e.length));
        }
        for (long b : n.overflow) {
            s.owned.clear((int) b);
        }
        for (Extent x : n.xattrExtents) {
            s.owned.clear((int) x.start(), (int) x.end());
        }
    }

    // ------------------------------------------------------------------ writes

    private void drop(Node n, Node.Ext e) {
        n.extents.remove(e);
        zeroSlot(e.slot);
        n.freeSlots.add(e.slot);
    }

    private void zeroSlot(long off) {
        if (s.fixes != null) {
            s.fixes.putLong(off + 8, 0);
            sealIfOverflow(off);
        }
    }

    private void writeSlot(long off, long lblk, long pblk, long len) {
        if (s.fixes != null) {
            s.fixes.write(off, MediaOrder.allocate(16).putLong(0, lblk)
                    .putLong(8, ExtentSlots.packPhysical(pblk, len)).array());
            sealIfOverflow(off);
        }
    }

    private void setLink(long link, long value) {
        if (s.fixes != null) {
            s.fixes.putLong(link, value);
            sealIfOverflow(link);
        }
    }

    /** A write into an overflow block reseals it (one in the inode table is resealed by address). */
    private void sealIfOverflow(long off) {
        if ((off >>> Geometry.BLOCK_SHIFT) >= g.dataStart()) {
            s.fixes.seal(Checksums.Kind.OVERFLOW, off & ~(Geometry.BLOCK_SIZE - 1L));
        }
    }
}
