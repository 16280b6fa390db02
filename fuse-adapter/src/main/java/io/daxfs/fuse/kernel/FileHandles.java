package io.daxfs.fuse.kernel;

import io.daxfs.core.data.Lease;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The open files of the mount: every OPEN, CREATE and TMPFILE gets a file handle (fh) of its own,
 * which the kernel passes back with IOCTL, POLL and RELEASE of that open file - the one struct
 * file that open(2) made, shared by its dup(2)s and by fork(2). Leases belong to it
 * (docs/leases.md): RELEASE, which the kernel sends when the last descriptor of the open file
 * closes (close(2), exit, kill -9), drops exactly its leases.
 *
 * <p>READ, WRITE and the other data requests address the inode by node id and never look here,
 * so the data path stays allocation-free.
 *
 * <p>Thread-safe: a concurrent map; a handle's leases are guarded by the handle (a leaf monitor,
 * never held while calling fs-core).
 */
final class FileHandles {
    static final int O_ACCMODE = 3;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;

    /** One open file. */
    static final class Handle {
        final long fh;
        final long ino;
        /** The open's O_ACCMODE bits. */
        final int accessMode;
        /** The kernel's poll handle (kh) once it asked to be notified; 0 before. */
        volatile long pollHandle;
        private final List<Lease> leases = new ArrayList<>(1);

        Handle(long fh, long ino, int accessMode) {
            this.fh = fh;
            this.ino = ino;
            this.accessMode = accessMode;
        }

        boolean readable() {
            return accessMode != O_WRONLY;
        }

        boolean readWrite() {
            return accessMode == O_RDWR;
        }

        synchronized void add(Lease lease) {
            leases.add(lease);
        }

        /** The leases with number {@code id} (all of them for 0), taken off the handle. */
        synchronized List<Lease> take(long id) {
            List<Lease> out = new ArrayList<>(1);
            leases.removeIf(l -> {
                if (id == 0 || l.id() == id) {
                    out.add(l);
                    return true;
                }
                return false;
            });
            return out;
        }

        /** The leases with number {@code id} (all for 0), left on the handle. */
        synchronized List<Lease> find(long id) {
            return leases.stream().filter(l -> id == 0 || l.id() == id).toList();
        }

        synchronized List<Lease> leases() {
            return List.copyOf(leases);
        }

        synchronized boolean anyBroken() {
            for (Lease l : leases) {
                if (l.broken()) {
                    return true;
                }
            }
            return false;
        }
    }

    private final ConcurrentHashMap<Long, Handle> open = new ConcurrentHashMap<>();
    private final AtomicLong next = new AtomicLong(1);

    /** Registers an open of {@code ino} with open(2) {@code flags}; returns its file handle. */
    long open(long ino, int flags) {
        long fh = next.getAndIncrement();
        open.put(fh, new Handle(fh, ino, flags & O_ACCMODE));
        return fh;
    }

    /** The open file {@code fh}, or null. */
    Handle get(long fh) {
        return open.get(fh);
    }

    /** Forgets {@code fh}; returns its handle, or null if there was none. */
    Handle remove(long fh) {
        return open.remove(fh);
    }

    int count() {
        return open.size();
    }
}
