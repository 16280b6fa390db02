package io.daxfs.core.inode;

/**
 * One mapped run of a file: logical blocks [logical, logical+length) live at physical blocks
 * [physical, physical+length). {@code slot} is the byte offset of the on-media slot holding it.
 */
public record FileExtent(long logical, long length, long physical, long slot) {
    public long logicalEnd() {
        return logical + length;
    }

    /** Physical block of logical block {@code lblk}, which must lie inside this extent. */
    public long physicalOf(long lblk) {
        return physical + (lblk - logical);
    }
}
