package io.daxfs.core.base;

/** One name of a directory listing, with its inode number and DT_* type. */
public record DirEntry(String name, long ino, int type) {
}
