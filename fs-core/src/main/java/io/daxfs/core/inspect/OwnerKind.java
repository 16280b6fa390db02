package io.daxfs.core.inspect;

/** What an inode uses a block of the data area for. */
public enum OwnerKind {
    /** Contents of a regular file. */
    FILE_DATA,
    /** Entries of a directory. */
    DIRECTORY,
    /** The target of a symbolic link. */
    SYMLINK,
    /** An extent-overflow block: more of an inode's block map. */
    EXTENT_MAP,
    /** Extended attributes: an index area or an out-of-line value. */
    XATTR
}
