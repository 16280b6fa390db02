package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;

/**
 * Inode lifetimes as the FUSE protocol defines them: an inode lives while it has a name, an
 * open handle, or a lookup the kernel has not forgotten ({@link KernelReferences} counts those).
 * fs-core knows names and open handles; this class turns the kernel's lookups into an fs-core
 * open handle (a pin) for exactly the inodes that lose their last name while the kernel still
 * references them, and releases the pin at the FORGET that drops the last lookup.
 *
 * <p>Concurrency: no lock of its own. It calls fs-core (open, release, releaseNumber) only after
 * leaving {@link KernelReferences}' stripe monitor, which so stays a leaf; a FORGET is served
 * under {@link KernelFileSystem}'s forgetting lock (read).
 */
final class KernelLookups {
    private final DaxFileSystem fs;
    private final KernelReferences references = new KernelReferences();

    KernelLookups(DaxFileSystem fs) {
        this.fs = fs;
        fs.keepFreedNumbersWhile(references::holdIfReferenced);
    }

    /** A reply is about to hand the kernel {@code ino}: count the lookup before sending. */
    void handing(long ino) {
        references.add(ino);
    }

    /**
     * FORGET of {@code n} lookups. The last one releases the pin of a pinned inode (which may
     * free it; its number is not held then, the kernel no longer knows it) and gives a held
     * number back.
     */
    void forget(long ino, long n) {
        int actions = references.forget(ino, n);
        if ((actions & KernelReferences.RELEASE_PIN) != 0) {
            fs.release(ino);
        }
        if ((actions & KernelReferences.RELEASE_NUMBER) != 0) {
            fs.releaseNumber(ino);
        }
    }

    /**
     * Before RENAME replaces a name: if the kernel references the inode behind it, which then
     * perhaps loses its last name, pin it until the kernel forgets it - a reader that looked the
     * target up just before must still open the old file. (UNLINK needs no pin: a reader racing
     * an unlink may just as well find no file; fs-core frees the inode at once and holds only
     * its number.) Directories are not pinned: the kernel marks a replaced directory dead and
     * sends it nothing but attribute requests, through an open descriptor, whose OPENDIR handle
     * keeps it. The kernel holds the directories' locks across the rename, so the
     * name cannot name another inode in between.
     */
    void pinBeforeReplacing(long dir, String name) {
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
