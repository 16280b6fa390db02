package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.FileMode;
import io.daxfs.core.FsException;

/**
 * Inode lifetimes as the FUSE protocol defines them: an inode lives while it has a name, an
 * open handle, or a lookup the kernel has not forgotten ({@link KernelReferences} counts those).
 * fs-core knows names and open handles; this class turns the kernel's lookups into an fs-core
 * open handle (a pin) for exactly the inodes that lose their last name while the kernel still
 * references them, and releases the pin at the FORGET that drops the last lookup.
 */
final class KernelLookups {
    private final DaxFileSystem fs;
    private final KernelReferences references = new KernelReferences();

    KernelLookups(DaxFileSystem fs) {
        this.fs = fs;
    }

    /** A reply is about to hand the kernel {@code ino}: count the lookup before sending. */
    void handing(long ino) {
        references.add(ino);
    }

    /** FORGET of {@code n} lookups; the last one of a pinned inode releases the pin. */
    void forget(long ino, long n) {
        if (references.forget(ino, n)) {
            fs.release(ino);
        }
    }

    /**
     * Before a name goes: if the kernel references the inode behind it, which then perhaps loses
     * its last name, pin it until the kernel forgets it. Directories are not pinned (fs-core frees
     * a directory at rmdir, and the kernel marks it dead). The kernel holds the directories' locks
     * across the removal, so the name cannot name another inode in between.
     */
    void pinBeforeRemoving(long dir, String name) {
        long victim;
        try {
            victim = fs.lookup(dir, name);
            if (FileMode.isDirectory(fs.mode(victim))) {
                return;
            }
        } catch (FsException e) {
            return; // no such name: the removal itself reports it
        }
        if (references.pinIfReferenced(victim)) {
            try {
                fs.open(victim);
            } catch (FsException e) {
                references.unpin(victim);
            }
        }
    }

    /** Inodes the kernel references (tests, diagnostics). */
    int tracked() {
        return references.size();
    }
}
