package io.daxfs.core.xattr;

import io.daxfs.core.alloc.Extent;

import java.util.List;
import java.util.TreeMap;

/**
 * The attributes of one inode as the index log at {@link #pointer} holds them up to
 * {@link #end}, with running totals so that a change costs no pass over all attributes.
 *
 * <p>Mutable, guarded by the inode's attribute lock: readers hold it shared, and a change is
 * applied here (exclusively) only after its transaction has committed.
 */
final class XattrSet {
    /** First block of the index area (the inode's xattr field); 0 when there are no attributes. */
    long pointer;
    /** The index area's extents, in order. */
    List<Extent> areaExtents;
    /** Bytes of the area in use: header plus records. */
    int end;
    /** Blocks owned: the area plus out-of-line values (counted in the inode's block count). */
    long blocks;
    /** By name. */
    final TreeMap<String, XattrEntry> entries;
    /** Bytes listxattr returns: every name plus its NUL. */
    int listBytes;
    /** Extents of the out-of-line values. */
    int valueExtents;
    /** Blocks of the out-of-line values. */
    long valueBlocks;
    /** Sum of the lengths of the inline values. */
    int inlineBytes;
    /** Size of a log holding only the live entries (header included). */
    long compactedBytes = XattrFormat.HEADER;
    /** Heap charged to the cache for this set. */
    long accounted;

    XattrSet(long pointer, List<Extent> areaExtents, int end, TreeMap<String, XattrEntry> entries, long blocks) {
        this.pointer = pointer;
        this.areaExtents = List.copyOf(areaExtents);
        this.end = end;
        this.entries = entries;
        this.blocks = blocks;
        for (XattrEntry e : entries.values()) {
            count(e, 1);
        }
    }

    static XattrSet empty() {
        return new XattrSet(0, List.of(), 0, new TreeMap<>(), 0);
    }

    private void count(XattrEntry e, int sign) {
        listBytes += sign * (e.nameBytes().length + 1);
        valueExtents += sign * e.extentCount();
        valueBlocks += sign * e.blocks();
        inlineBytes += sign * (e.isInline() ? e.length() : 0);
        compactedBytes += sign * e.recordSize();
    }

    void put(XattrEntry e) {
        XattrEntry old = entries.put(e.name(), e);
        if (old != null) {
            count(old, -1);
        }
        count(e, 1);
    }

    void remove(String name) {
        XattrEntry old = entries.remove(name);
        if (old != null) {
            count(old, -1);
        }
    }

    void area(long pointer, List<Extent> extents, int end, long blocks) {
        this.pointer = pointer;
        this.areaExtents = List.copyOf(extents);
        this.end = end;
        this.blocks = blocks;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Extents owned: area plus values (bounds the journal space to free them all). */
    int extentCount() {
        return areaExtents.size() + valueExtents;
    }

    /** Bytes the area's blocks hold. */
    long capacity() {
        return areaBlocks() << XattrFormat.BLOCK_SHIFT;
    }

    long areaBlocks() {
        long n = 0;
        for (Extent e : areaExtents) {
            n += e.length();
        }
        return n;
    }

    /** Rough heap footprint, for the cache's budget. */
    long footprint() {
        return 128L + compactedBytes + 64L * entries.size();
    }
}
