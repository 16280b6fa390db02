package io.daxfs.core.namespace;

import io.daxfs.core.alloc.InodeAllocator;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.concurrent.PausePoints;
import io.daxfs.core.concurrent.Safeguards;
import io.daxfs.core.inode.Inode;
import io.daxfs.core.inode.InodeHandles;
import io.daxfs.core.inode.InodeTable;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The namespace's locks: one lock per directory - its inode's lock ({@link Inode#lock()}),
 * shared for lookups and listings, exclusive for any change to its entries - plus one
 * file-system-wide rename lock, taken only by renames across directories (as Linux's
 * {@code s_vfs_rename_mutex}). The order they are taken in is written once, in
 * {@link io.daxfs.core.concurrent.LockOrder}.
 *
 * <p>Why the rename lock: a rename across directories checks that a directory does not move
 * into its own subtree by walking parent pointers, and locks two directories that may be
 * unrelated. Two such renames in flight could each pass the check and together cut a loop of
 * directories off the tree, or lock unrelated directories in opposite orders. Serialising
 * them keeps every parent pointer still while one of them checks and locks.
 *
 * <p>A directory can be removed while another operation waits for its lock; whoever gets
 * the lock afterwards finds it dead (its handle retired, or its inode free) and fails with
 * ENOENT instead of writing into a freed directory.
 */
final class NamespaceLocks {
    private final ReentrantLock renameLock = new ReentrantLock();
    private final InodeHandles handles;
    private final InodeAllocator inodes;
    private final InodeTable table;
    private final Safeguards safeguards;
    private final PausePoints pauses;

    NamespaceLocks(InodeHandles handles, InodeAllocator inodes, InodeTable table, Safeguards safeguards,
                   PausePoints pauses) {
        this.handles = handles;
        this.inodes = inodes;
        this.table = table;
        this.safeguards = safeguards;
        this.pauses = pauses;
    }

    /** A handle for {@code ino}; ENOENT if it is not an inode in use. */
    Inode handle(long ino) {
        checkInUse(ino);
        return handles.get(ino);
    }

    void checkInUse(long ino) {
        if (ino < 1 || ino > inodes.count() || !inodes.isUsed(ino)) {
            throw new FsException(Errno.ENOENT, "no inode " + ino);
        }
    }

    /** Locks taken by one operation, released in reverse order by {@link #close}. */
    final class Held implements AutoCloseable {
        private final Lock[] locks = new Lock[6];
        private int count;

        private void push(Lock l) {
            l.lock();
            locks[count++] = l;
        }

        /** Takes the rename lock (renames across directories only; first of all locks). */
        void renameLock() {
            if (safeguards.renameLock) {
                push(renameLock);
            }
        }

        /**
         * Locks directory {@code dir} and returns its handle; ENOENT if it was removed before
         * the lock was ours (also a removed directory kept for an open handle: link count 0,
         * as Linux's IS_DEADDIR), ENOTDIR if it is not a directory.
         */
        Inode directory(long dir, boolean exclusive) {
            Inode in = handle(dir);
            pauses.reach("namespace.directory-resolved", dir);
            if (exclusive || safeguards.directoryLocks) {
                push(exclusive ? in.lock().writeLock() : in.lock().readLock());
            }
            requireLive(in);
            if (!FileMode.isDirectory(table.mode(dir))) {
                throw new FsException(Errno.ENOTDIR, "inode " + dir + " is not a directory");
            }
            if (table.nlink(dir) == 0) {
                throw new FsException(Errno.ENOENT, "directory " + dir + " was removed");
            }
            return in;
        }

        /** Locks inode {@code ino} exclusively (a child of directories this operation holds). */
        Inode inode(long ino) {
            Inode in = handle(ino);
            push(in.lock().writeLock());
            requireLive(in);
            return in;
        }

        /** Locks inodes {@code a} and {@code b} (0: none) exclusively, in ascending number. */
        void inodes(long a, long b) {
            long lo = Math.min(a, b);
            long hi = Math.max(a, b);
            if (lo != 0) {
                inode(lo);
            }
            if (hi != lo) {
                inode(hi);
            }
        }

        @Override
        public void close() {
            while (count > 0) {
                locks[--count].unlock();
                locks[count] = null;
            }
            inUse = false;
        }

        private boolean inUse;
    }

    /**
     * Each thread's {@link Held}, reused by its next operation when closed: a lookup is tens of
     * nanoseconds, and a fresh Held per lookup was all it allocated. An operation that holds
     * locks while another starts on the same thread (none does today) gets a fresh one.
     */
    private final ThreadLocal<Held> spareHeld = ThreadLocal.withInitial(Held::new);

    Held hold() {
        Held h = spareHeld.get();
        if (h.inUse) {
            h = new Held();
        }
        h.inUse = true;
        return h;
    }

    /**
     * Fails with ENOENT if {@code in} no longer stands for a live inode: freed while we waited
     * for its lock (retired handle), or freed and its handle made again before the number was
     * released (mode 0 on the media).
     */
    private void requireLive(Inode in) {
        if (!safeguards.deadDirectoryCheck) {
            return;
        }
        if (in.isRetired() || !inodes.isUsed(in.ino()) || table.mode(in.ino()) == 0) {
            throw new FsException(Errno.ENOENT, "inode " + in.ino() + " was removed");
        }
    }
}
