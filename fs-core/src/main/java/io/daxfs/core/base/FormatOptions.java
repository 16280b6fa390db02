package io.daxfs.core.base;

/**
 * Choices made at mkfs: inode count (0 = one per 16 KiB of device), volume label, and the
 * owner of the root directory.
 */
public record FormatOptions(long inodes, String label, int rootUid, int rootGid) {
    public static FormatOptions defaults() {
        return new FormatOptions(0, "", 0, 0);
    }
}
