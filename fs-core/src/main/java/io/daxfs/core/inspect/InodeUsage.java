package io.daxfs.core.inspect;

/** Inodes by state and type (types from the mode of each allocated inode). */
public record InodeUsage(long total, long used, long regularFiles, long directories, long symlinks, long other) {
    public long free() {
        return total - used;
    }
}
