package io.daxfs.core.base;

/** statfs(2) figures, in blocks of {@code blockSize} bytes. */
public record FsStats(long blockSize, long totalBlocks, long freeBlocks, long totalInodes, long freeInodes,
                      int maxNameLength) {
}
