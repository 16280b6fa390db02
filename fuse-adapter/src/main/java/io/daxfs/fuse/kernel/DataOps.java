package io.daxfs.fuse.kernel;

import static io.daxfs.fuse.kernel.FuseAbi.*;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.Errno;
import io.daxfs.core.FsException;

/**
 * Open files: OPEN, READ, WRITE, RELEASE, FSYNC, FALLOCATE. The file handle is the inode number
 * and every open registers a handle in fs-core ({@link DaxFileSystem#open(long)}), which keeps an
 * unlinked file and its blocks alive until the last RELEASE (and on the orphan list across a
 * crash). READ and WRITE use the request's node id and allocate nothing: data moves between
 * device memory and the worker's request or reply buffer in one copy.
 */
final class DataOps {
    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    private final DaxFileSystem fs;
    private final KernelOptions options;

    DataOps(DaxFileSystem fs, KernelOptions options) {
        this.fs = fs;
        this.options = options;
    }

    void open(Request r, Reply out) {
        long ino = r.nodeid();
        if (openExisting(ino, r.argInt(OPEN_IN_FLAGS), r.argInt(OPEN_IN_OPEN_FLAGS))) {
            out.invalidateAttributes(ino);
        }
        out.send(putOpenOut(out, 0, ino));
    }

    /**
     * Registers an open handle of {@code ino}; with O_TRUNC (the kernel passes it: ATOMIC_O_TRUNC)
     * truncates, dropping set-user-ID/set-group-ID if the kernel says the opener lacks
     * CAP_FSETID. The handle is released again if that fails. Returns whether the mode changed.
     */
    boolean openExisting(long ino, int flags, int openFlags) {
        fs.open(ino);
        try {
            if ((flags & NamespaceOps.O_TRUNC) != 0) {
                fs.truncate(ino, 0);
                return (openFlags & OPEN_KILL_SUIDGID) != 0 && fs.dropPrivileges(ino);
            }
            return false;
        } catch (RuntimeException | Error e) {
            fs.release(ino);
            throw e;
        }
    }

    /** struct fuse_open_out at {@code at}; returns its size. */
    int putOpenOut(Reply out, long at, long ino) {
        out.putLong(at + OPEN_OUT_FH, ino);
        out.putInt(at + OPEN_OUT_FLAGS, options.keepCache() ? FOPEN_KEEP_CACHE : 0);
        out.putInt(at + OPEN_OUT_FLAGS + 4, 0);
        return OPEN_OUT_SIZE;
    }

    void read(Request r, Reply out) {
        long offset = r.argLong(IO_IN_OFFSET);
        long size = Integer.toUnsignedLong(r.argInt(IO_IN_SIZE));
        int n = fs.read(r.nodeid(), offset, out.body(), Reply.bodyOffset(), (int) Math.min(size, out.capacity()));
        out.send(n);
    }

    void write(Request r, Reply out) {
        long ino = r.nodeid();
        long offset = r.argLong(IO_IN_OFFSET);
        int size = r.argInt(IO_IN_SIZE);
        if (size < 0 || WRITE_IN_SIZE + (long) size > r.argLength()) {
            throw new FsException(Errno.EINVAL, "write of " + size + " bytes in a request of " + r.length());
        }
        if ((r.argInt(IO_IN_IO_FLAGS) & WRITE_KILL_SUIDGID) != 0 && fs.dropPrivileges(ino)) {
            out.invalidateAttributes(ino); // the kernel expects size and times to change, not the mode
        }
        int n = fs.write(ino, offset, r.buffer(), Request.absolute(WRITE_IN_SIZE), size);
        out.putInt(0, n);
        out.putInt(4, 0);
        out.send(WRITE_OUT_SIZE);
    }

    void release(Request r, Reply out) {
        fs.release(r.nodeid()); // the last release of an unlinked file frees it
        out.ok();
    }

    void fsync(Request r, Reply out) {
        fs.fsync(r.nodeid());
        out.ok();
    }

    void fallocate(Request r, Reply out) {
        long ino = r.nodeid();
        long offset = r.argLong(FALLOCATE_IN_OFFSET);
        long length = r.argLong(FALLOCATE_IN_LENGTH);
        int mode = r.argInt(FALLOCATE_IN_MODE);
        boolean keepSize = (mode & FALLOC_FL_KEEP_SIZE) != 0;
        int rest = mode & ~FALLOC_FL_KEEP_SIZE;
        if (rest == FALLOC_FL_PUNCH_HOLE) {
            if (!keepSize) {
                throw new FsException(Errno.EOPNOTSUPP, "PUNCH_HOLE needs KEEP_SIZE"); // as Linux
            }
            fs.punchHole(ino, offset, length);
        } else if (rest == FALLOC_FL_ZERO_RANGE) {
            fs.zeroRange(ino, offset, length, keepSize);
        } else if (rest == 0) {
            fs.fallocate(ino, offset, length, keepSize);
        } else {
            throw new FsException(Errno.EOPNOTSUPP, "fallocate mode " + mode); // collapse/insert range, unshare
        }
        out.ok();
    }
}
