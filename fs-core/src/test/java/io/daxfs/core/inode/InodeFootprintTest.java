package io.daxfs.core.inode;

import org.junit.jupiter.api.Test;

import io.daxfs.core.Allocations;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every inode in use has an {@link Inode} on the heap (the daemon keeps one per file touched
 * since mount), so its size is the daemon's memory per file. Per-request structures made
 * eagerly (4 KiB of dirty-range arrays, 640 bytes of mapping-cache words) once doubled the
 * daemon's heap in the benchmark's small-file test; they are made at first use. This keeps it
 * so: a fresh handle, made and used only for metadata, stays under 1 KiB.
 */
class InodeFootprintTest {
    @Test
    void aFreshHandleStaysSmall() {
        Inode[] keep = new Inode[1000];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = new Inode(i + 1, 4096L * i); // warm-up: class loading
        }
        long before = Allocations.currentThreadBytes();
        for (int i = 0; i < keep.length; i++) {
            keep[i] = new Inode(i + 1, 4096L * i);
        }
        long perInode = (Allocations.currentThreadBytes() - before) / keep.length;
        assertTrue(perInode < 1024, "bytes per fresh Inode: " + perInode);
    }
}
