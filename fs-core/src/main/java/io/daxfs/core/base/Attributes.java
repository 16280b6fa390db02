package io.daxfs.core.base;

/**
 * What stat(2) reports for an inode. Times are seconds and nanoseconds since the epoch;
 * {@code blocks512} counts 512-byte units as st_blocks does. {@code generation} grows each
 * time the inode number is given to a new file: (ino, generation) names one file for the
 * file system's whole life (FUSE and NFS file handles rely on it).
 */
public record Attributes(long ino, int mode, long nlink, int uid, int gid, long rdev, long size, long blocks512,
                         long atimeSec, int atimeNsec, long mtimeSec, int mtimeNsec, long ctimeSec, int ctimeNsec,
                         int generation) {
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
