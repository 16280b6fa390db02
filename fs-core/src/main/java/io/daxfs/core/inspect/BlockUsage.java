package io.daxfs.core.inspect;

/**
 * Blocks of 4 KiB by what the block bitmap says. The metadata area (superblocks, journal,
 * bitmaps, inode table) is always in use; "data" is the rest of the device.
 */
public record BlockUsage(long total, long metadata, long dataTotal, long dataUsed) {
    public long dataFree() {
        return dataTotal - dataUsed;
    }
}
