package io.daxfs.core.xattr;

import io.daxfs.core.alloc.Extent;

import java.util.List;

/**
 * One attribute as the index records it: its name, the value's length, and either the value
 * itself (inline, {@code extents == null}) or where it lies (out of line: whole blocks of the
 * data area, with the value's CRC32C).
 */
record XattrEntry(String name, byte[] nameBytes, int length, byte[] inline, List<Extent> extents, int crc) {

    static XattrEntry inline(String name, byte[] nameBytes, byte[] value) {
        return new XattrEntry(name, nameBytes, value.length, value, null, 0);
    }

    static XattrEntry outOfLine(String name, byte[] nameBytes, int length, List<Extent> extents, int crc) {
        return new XattrEntry(name, nameBytes, length, null, List.copyOf(extents), crc);
    }

    boolean isInline() {
        return extents == null;
    }

    /** Blocks of the data area the value owns (0 when inline). */
    long blocks() {
        if (extents == null) {
            return 0;
        }
        long n = 0;
        for (Extent e : extents) {
            n += e.length();
        }
        return n;
    }

    int extentCount() {
        return extents == null ? 0 : extents.size();
    }

    /** Bytes of the "set" record that stores this entry in the index log. */
    int recordSize() {
        return XattrFormat.RECORD_HEADER + nameBytes.length + (extents == null ? length : 4 + 8 * extents.size());
    }
}
