/**
 * Directories: the on-media entry records (DirentLayout), the loaded index of one directory
 * (Directory), the index of every directory by inode number (Directories), and a directory's
 * blocks growing and shrinking (DirectoryBlocks).
 */
package io.daxfs.core.dir;
