/**
 * Inodes: the on-media table (InodeTable, InodeLayout), the in-memory handle of each inode in
 * use with its locks (Inode, InodeHandles), its block map (ExtentMap, ExtentSlots), the
 * device ranges written since fsync (DirtyRanges) and atime updates (AccessTimes).
 */
package io.daxfs.core.inode;
