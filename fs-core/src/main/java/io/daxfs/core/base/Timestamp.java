package io.daxfs.core.base;

import java.time.Instant;

/** A point in time as the inode stores it. */
public record Timestamp(long seconds, int nanos) {
    public static Timestamp now() {
        Instant i = Instant.now();
        return new Timestamp(i.getEpochSecond(), i.getNano());
    }
}
