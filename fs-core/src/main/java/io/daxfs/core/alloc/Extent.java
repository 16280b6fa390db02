package io.daxfs.core.alloc;

/** A run of {@code length} device blocks starting at block {@code start}. */
public record Extent(long start, long length) {
    public Extent {
        if (length <= 0 || start < 0) {
            throw new IllegalArgumentException("bad extent " + start + "+" + length);
        }
    }

    public long end() {
        return start + length;
    }
}
