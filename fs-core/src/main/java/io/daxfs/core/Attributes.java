package io.daxfs.core;

/**
 * What stat(2) reports for an inode. Times are seconds and nanoseconds since the epoch;
 * {@code blocks512} counts 512-byte units as st_blocks does.
 */
public record Attributes(long ino, int mode, long nlink, int uid, int gid, long rdev, long size, long blocks512,
                         long atimeSec, int atimeNsec, long mtimeSec, int mtimeNsec, long ctimeSec, int ctimeNsec) {
    public boolean isDirectory() {
        return (mode & FileMode.S_IFMT) == FileMode.S_IFDIR;
    }

    public boolean isRegular() {
        return (mode & FileMode.S_IFMT) == FileMode.S_IFREG;
    }

    public boolean isSymlink() {
        return (mode & FileMode.S_IFMT) == FileMode.S_IFLNK;
    }
}
