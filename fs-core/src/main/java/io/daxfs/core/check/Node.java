package io.daxfs.core.check;

import io.daxfs.core.alloc.Extent;

import java.util.ArrayList;
import java.util.List;

/**
 * What the check knows of one inode in use, as its decisions leave it: a repair changes the
 * model as it decides, so later phases see the file system as the repair will leave it.
 */
final class Node {
    /** One mapped run and the slot that holds it (byte offset). */
    static final class Ext {
        final long slot;
        long logical;
        long physical;
        long length;

        Ext(long slot, long logical, long physical, long length) {
            this.slot = slot;
            this.logical = logical;
            this.physical = physical;
            this.length = length;
        }

        long logicalEnd() {
            return logical + length;
        }
    }

    /** A directory entry as read (and kept) by the check. */
    record Entry(String name, long ino, int type, long record) {
    }

    final long ino;
    final int mode;
    final boolean dir;
    /** Every checksum of the inode and its blocks matched: it keeps shared blocks (claims first). */
    boolean trusted = true;
    int flags;
    long nlink;
    long overflowHead;
    long xattrHead;
    boolean badSize;
    final List<Ext> extents = new ArrayList<>();
    final List<Long> overflow = new ArrayList<>();
    /** Slots free for a split (trim) of an extent: byte offsets. */
    final List<Long> freeSlots = new ArrayList<>();
    /** Extents the attributes own (area and out-of-line values); empty if none. */
    List<Extent> xattrExtents = List.of();
    long xattrBlocks;
    /** Directories: the entries kept. */
    List<Entry> entries = List.of();
    int names;
    long subdirs;
    boolean reached;
    /** Directories: the directory that names it (0: none yet). */
    long parentFound;
    /** To be put in /lost+found by the repair. */
    boolean lost;
    /** On the orphan list. */
    boolean orphan;
    /**
     * Made by fsck (a new root directory): what the media holds at its number is not this
     * inode, so its slots are never read - blocks the old inode mapped are owned by nothing
     * and freed, rather than kept in use by an inode the repair then overwrites.
     */
    boolean fresh;

    Node(long ino, int mode, boolean dir) {
        this.ino = ino;
        this.mode = mode;
        this.dir = dir;
    }

    long mappedBlocks() {
        long n = 0;
        for (Ext e : extents) {
            n += e.length;
        }
        return n;
    }

    long lastLogicalEnd() {
        long end = 0;
        for (Ext e : extents) {
            end = Math.max(end, e.logicalEnd());
        }
        return end;
    }

    long ownedBlocks() {
        return mappedBlocks() + overflow.size() + xattrBlocks;
    }
}
