package io.daxfs.core.check;

import io.daxfs.core.dir.DirentLayout;
import io.daxfs.core.format.Checksums;
import io.daxfs.core.format.Geometry;
import io.daxfs.core.inode.InodeLayout;
import io.daxfs.devdax.MediaOrder;

import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * fsck's directories and tree.
 *
 * <p>Directory blocks: a block without the directory magic is emptied (its names are lost;
 * their files go to /lost+found); one with another owner, or whose records stop parsing, keeps
 * the records before the damage (the last of them takes over the rest of the block); one that
 * only fails its checksum is resealed. Entries: one that names an inode number no entry may
 * name, a free (or cleared) inode, or a name already in the directory is removed; one whose
 * type disagrees with its inode's is given the inode's type.
 *
 * <p>The tree: from the root, breadth first; a directory reached a second time loses that
 * entry (a directory has one name); each directory's parent field must be where it was
 * found. Directories not reached are put in /lost+found - the topmost of each disconnected
 * subtree - and so are files that no entry names, except orphans (freed, as a mount would).
 */
final class TreeScan {
    private final Scan s;
    private final Geometry g;
    /** Directory to the first directory found naming it. */
    private final Map<Long, Long> namedBy = new HashMap<>();

    TreeScan(Scan s) {
        this.s = s;
        this.g = s.g;
    }

    void run() {
        for (Node n : List.copyOf(s.nodes.values())) {
            if (n.dir) {
                n.entries = read(n);
            }
            s.advance();
        }
        for (Node n : s.nodes.values()) {
            if (n.dir) {
                validate(n);
            }
        }
        Node root = s.nodes.get(InodeLayout.ROOT);
        root.parentFound = InodeLayout.ROOT;
        walk(root);
        unreachable();
        parents();
    }

    // ------------------------------------------------------------------ directory blocks

    private List<Node.Entry> read(Node d) {
        List<Node.Entry> out = new ArrayList<>();
        List<Node.Ext> extents = new ArrayList<>(d.extents);
        extents.sort(java.util.Comparator.comparingLong(e -> e.logical));
        for (Node.Ext e : extents) {
            for (long i = 0; i < e.length; i++) {
                block(d, e.physical + i, out);
            }
        }
        return out;
    }

    private void block(Node d, long pblk, List<Node.Entry> out) {
        long base = Geometry.blockOffset(pblk);
        String where = "directory " + d.ino + ": block " + pblk;
        if (s.media.get(MediaOrder.INT, base + DirentLayout.BLOCK_MAGIC) != DirentLayout.BLOCK_MAGIC_VALUE) {
            s.problem(where + " has no directory-block magic",
                    "emptied it: the names it held are lost (their files go to /lost+found)");
            rewrite(base, d.ino, List.of());
            return;
        }
        long owner = s.media.get(MediaOrder.LONG, base + DirentLayout.BLOCK_OWNER);
        List<DirentLayout.Record> records = DirentLayout.records(s.media, base);
        DirentLayout.Record last = records.isEmpty() ? null : records.getLast();
        boolean broken = last != null && last.problem() != null;
        List<DirentLayout.Record> kept = broken ? records.subList(0, records.size() - 1) : records;
        if (broken || owner != d.ino) {
            long live = kept.stream().filter(r -> r.ino() != 0).count();
            s.problem(where + " " + (broken ? last.problem() : "belongs to inode " + owner),
                    broken ? "kept the " + live + " entries before the damage; the names after it are lost"
                            + " (their files go to /lost+found)" : "set its owner");
            rewrite(base, d.ino, kept);
        } else if (!s.checksums.verify(Checksums.Kind.DIRECTORY, s.media, base)) {
            s.problem(where + " fails its checksum", "recomputed it");
            if (s.fixes != null) {
                s.fixes.seal(Checksums.Kind.DIRECTORY, base);
            }
        }
        for (DirentLayout.Record r : kept) {
            if (r.ino() != 0) {
                out.add(new Node.Entry(r.name(), r.ino(), r.type(), base + r.offset()));
            }
        }
    }

    /**
     * Rewrites the block at {@code base} for directory {@code owner}: its header, the records
     * {@code kept} (a prefix of the block's records) as they are, the last of them stretched to
     * the end of the block - or one free record after the header if none is kept.
     */
    private void rewrite(long base, long owner, List<DirentLayout.Record> kept) {
        if (s.fixes == null) {
            return;
        }
        byte[] block = s.media.asSlice(base, Geometry.BLOCK_SIZE).toArray(ValueLayout.JAVA_BYTE);
        var b = MediaOrder.wrap(block);
        b.putInt(DirentLayout.BLOCK_MAGIC, DirentLayout.BLOCK_MAGIC_VALUE).putLong(DirentLayout.BLOCK_OWNER, owner);
        if (kept.isEmpty()) {
            b.putLong(DirentLayout.BLOCK_HEADER + DirentLayout.INO, 0);
            b.putShort(DirentLayout.BLOCK_HEADER + DirentLayout.REC_LEN,
                    (short) (Geometry.BLOCK_SIZE - DirentLayout.BLOCK_HEADER));
        } else {
            DirentLayout.Record l = kept.getLast();
            b.putShort(l.offset() + DirentLayout.REC_LEN, (short) (Geometry.BLOCK_SIZE - l.offset()));
        }
        s.fixes.write(base, block);
        s.fixes.seal(Checksums.Kind.DIRECTORY, base);
    }

    // ------------------------------------------------------------------ entries

    private void validate(Node d) {
        Set<String> names = new HashSet<>();
        List<Node.Entry> keep = new ArrayList<>(d.entries.size());
        for (Node.Entry e : d.entries) {
            long ino = e.ino();
            Node c = ino >= 1 && ino <= g.inodeCount() ? s.nodes.get(ino) : null;
            String why = null;
            if (ino < 1 || ino > g.inodeCount() || ino == d.ino || ino == InodeLayout.ROOT) {
                why = "names inode " + ino + ", which no entry may name";
            } else if (c == null) {
                why = "points at free inode " + ino;
            } else if (!names.add(e.name())) {
                why = "is a second entry of that name";
            }
            if (why != null) {
                s.problem("entry '" + e.name() + "' in directory " + d.ino + " " + why, "removed the entry");
                remove(e);
                continue;
            }
            int type = DirentLayout.typeOf(c.mode);
            if (type != e.type()) {
                s.problem("entry '" + e.name() + "' in directory " + d.ino + " says type " + e.type() + " but inode "
                        + ino + " is type " + type, "set the entry's type");
                if (s.fixes != null) {
                    s.fixes.putByte(e.record() + DirentLayout.TYPE, (byte) type);
                    sealBlockOf(e.record());
                }
                e = new Node.Entry(e.name(), ino, type, e.record());
            }
            keep.add(e);
            if (c.dir) {
                namedBy.putIfAbsent(ino, d.ino);
            }
        }
        d.entries = keep;
    }

    private void remove(Node.Entry e) {
        if (s.fixes != null) {
            s.fixes.putLong(e.record() + DirentLayout.INO, 0);
            sealBlockOf(e.record());
        }
    }

    private void sealBlockOf(long record) {
        s.fixes.seal(Checksums.Kind.DIRECTORY, record & ~(Geometry.BLOCK_SIZE - 1L));
    }

    // ------------------------------------------------------------------ the tree

    /** Marks everything reachable from {@code top}, breadth first; a directory has one name. */
    private void walk(Node top) {
        ArrayDeque<Node> queue = new ArrayDeque<>();
        top.reached = true;
        queue.add(top);
        while (!queue.isEmpty()) {
            Node d = queue.poll();
            List<Node.Entry> keep = new ArrayList<>(d.entries.size());
            for (Node.Entry e : d.entries) {
                Node c = s.nodes.get(e.ino());
                if (c.dir) {
                    if (c.reached) {
                        s.problem("directory " + c.ino + " is reachable by more than one path ('" + e.name()
                                + "' in directory " + d.ino + ")", "removed that entry");
                        remove(e);
                        continue;
                    }
                    c.reached = true;
                    c.parentFound = d.ino;
                    d.subdirs++;
                    queue.add(c);
                } else {
                    c.names++;
                    c.reached = true;
                }
                keep.add(e);
            }
            d.entries = keep;
        }
    }

    private void unreachable() {
        for (Node u : List.copyOf(s.nodes.values())) {
            if (u.reached || !u.dir || u.orphan) {
                continue; // an orphaned directory (removed while open) has no place in the tree
            }
            Node top = u;
            Set<Long> seen = new HashSet<>(List.of(u.ino));
            while (true) {
                Long p = namedBy.get(top.ino);
                Node namer = p == null ? null : s.nodes.get(p);
                if (namer == null || namer.reached || !seen.add(namer.ino)) {
                    break;
                }
                top = namer;
            }
            s.problem("directory " + top.ino + " is not connected to the tree", "moved it to /lost+found");
            top.lost = true;
            walk(top);
        }
        BlockMaps maps = new BlockMaps(s);
        for (Node u : List.copyOf(s.nodes.values())) {
            if (u.reached || u.orphan) {
                continue; // orphans on the list: a note (a repair freed them already)
            }
            if ((u.flags & InodeLayout.FLAG_ORPHAN) != 0 && u.nlink == 0) {
                s.problem("inode " + u.ino + " is an orphan but not on the orphan list", "freed it, as a mount would");
                maps.unclaim(u);
                s.clearInode(u.ino);
            } else {
                s.problem("inode " + u.ino + " is allocated but has no name", "moved it to /lost+found");
                u.lost = true;
            }
        }
    }

    private void parents() {
        for (Node d : s.nodes.values()) {
            if (!d.dir || d.lost || d.orphan && !d.reached) {
                continue; // moved to /lost+found: gets its parent there; orphaned: keeps its old one (".." of an open, removed directory)
            }
            long parent = s.field(d.ino, InodeLayout.PARENT);
            if (parent != d.parentFound) {
                s.problem("directory inode " + d.ino + " records parent " + parent + " but is listed in "
                        + d.parentFound, "set its parent");
                if (s.fixes != null) {
                    s.fixes.putLong(g.inodeOffset(d.ino) + InodeLayout.PARENT, d.parentFound);
                }
            }
        }
    }
}
