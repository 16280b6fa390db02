package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.AtimePolicy;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.inode.ChattrFlags;
import io.daxfs.fuse.vfs.FallocateModes;

import static io.daxfs.fuse.kernel.FuseAbi.*;

/**
 * Open files: OPEN, READ, WRITE, RELEASE, FSYNC, FALLOCATE. Every open registers a handle in
 * fs-core ({@link DaxFileSystem#open(long)}), which keeps an unlinked file and its blocks alive
 * until the last RELEASE (and on the orphan list across a crash), and gets a file handle of its
 * own ({@link FileHandles}: the open file its leases belong to). READ and WRITE use the
 * request's node id, never the file handle, and allocate nothing: data moves between device
 * memory and the worker's request or reply buffer in one copy.
 */
final class DataOps {
    static final int O_APPEND = 02000;
    private final DaxFileSystem fs;
    private final KernelOptions options;
    private final FileHandles handles;
    private final LeaseOps leases;
    private final RequestStats stats;
    private volatile boolean directIoAllowsMmap;

    DataOps(DaxFileSystem fs, KernelOptions options, FileHandles handles, LeaseOps leases, RequestStats stats) {
        this.fs = fs;
        this.options = options;
        this.handles = handles;
        this.leases = leases;
        this.stats = stats;
    }

    void open(Request r, Reply out) {
        long ino = r.nodeid();
        int flags = r.argInt(OPEN_IN_FLAGS);
        if (openExisting(r, ino, flags, r.argInt(OPEN_IN_OPEN_FLAGS))) {
            out.invalidateAttributes(ino);
        }
        long fh = handles.open(ino, flags);
        if (!out.send(putOpenOut(out, 0, fh))) {
            forget(fh); // the kernel gave up on this OPEN: no RELEASE will come for it
            fs.release(ino);
        }
    }

    /**
     * Registers an open handle of {@code ino}; with O_TRUNC (the kernel passes it: ATOMIC_O_TRUNC)
     * truncates, dropping set-user-ID/set-group-ID if the kernel says the opener lacks
     * CAP_FSETID. The handle is released again if that fails. An immutable or append-only file
     * refuses what Linux's may_open refuses ({@link ChattrFlags#checkOpen}). Returns whether the mode changed.
     */
    boolean openExisting(Request r, long ino, int flags, int openFlags) {
        ChattrFlags.checkOpen(fs.chattrFlags(ino), (flags & FileHandles.O_ACCMODE) != 0, (flags & O_APPEND) != 0,
                (flags & NamespaceOps.O_TRUNC) != 0);
        fs.open(ino);
        try {
            if ((flags & NamespaceOps.O_TRUNC) != 0) {
                fs.truncate(ino, 0);
                return (openFlags & OPEN_KILL_SUIDGID) != 0 && Privileges.drop(fs, r, ino);
            }
            return false;
        } catch (RuntimeException | Error e) {
            fs.release(ino);
            throw e;
        }
    }

    /** A file handle for an open of {@code ino} with open(2) {@code flags} ({@link FileHandles}). */
    long handle(long ino, int flags) {
        return handles.open(ino, flags);
    }

    /** Forgets file handle {@code fh} of an open the kernel never saw (its reply did not arrive). */
    void forget(long fh) {
        FileHandles.Handle h = handles.remove(fh);
        if (h != null) {
            leases.released(h);
        }
    }

    /** INIT agreed on DIRECT_IO_ALLOW_MMAP: a FOPEN_DIRECT_IO file may be mapped shared. */
    void directIoAllowsMmap(boolean allowed) {
        directIoAllowsMmap = allowed;
    }

    /** struct fuse_open_out with file handle {@code fh} at {@code at}; returns its size. */
    int putOpenOut(Reply out, long at, long fh) {
        out.putLong(at + OPEN_OUT_FH, fh);
        out.putInt(at + OPEN_OUT_FLAGS, openFlags());
        out.putInt(at + OPEN_OUT_FLAGS + 4, 0);
        return OPEN_OUT_SIZE;
    }

    /**
     * How the kernel caches an open file's pages. With kernel_cache (the default) they outlive
     * close and reopen (FOPEN_KEEP_CACHE), and a read they satisfy never reaches daxfs. Under
     * strictatime every read must move atime, and FUSE leaves atime to the server (every FUSE
     * inode is S_NOATIME), so each read must reach the daemon: FOPEN_DIRECT_IO sends every
     * read(2) and write(2) of the open as a request (fs/fuse/file.c fuse_direct_read_iter),
     * and with DIRECT_IO_ALLOW_MMAP a shared mapping still works through the page cache
     * (fuse_file_mmap; its page faults are READs too). A kernel without it (before 6.6) would
     * refuse shared mappings of such files (ENODEV), so there the open only drops the file's
     * cached pages (no FOPEN_KEEP_CACHE: fuse_finish_open invalidates them) and the first read
     * after each open reaches daxfs.
     */
    private int openFlags() {
        if (fs.atimePolicy().mode() == AtimePolicy.Mode.STRICT) {
            return directIoAllowsMmap ? FOPEN_DIRECT_IO : 0;
        }
        return options.keepCache() ? FOPEN_KEEP_CACHE : 0;
    }

    /** READ: spliced from the image when it is large ({@link SplicedRead}), else copied into the reply. */
    void read(Request r, Reply out) {
        long offset = r.argLong(IO_IN_OFFSET);
        int length = (int) Math.min(Integer.toUnsignedLong(r.argInt(IO_IN_SIZE)), out.capacity());
        SplicedRead spliced = out.splicedRead();
        int n = spliced == null ? -1 : spliced.read(fs, r.nodeid(), offset, length, out);
        if (n < 0) {
            n = fs.read(r.nodeid(), offset, out.body(), Reply.bodyOffset(), length);
        }
        if (!out.sent()) {
            out.send(n);
        }
        stats.read(out, n);
    }

    void write(Request r, Reply out) {
        long ino = r.nodeid();
        long offset = r.argLong(IO_IN_OFFSET);
        int size = r.argInt(IO_IN_SIZE);
        if (size < 0 || WRITE_IN_SIZE + (long) size > r.argLength()) {
            throw new FsException(Errno.EINVAL, "write of " + size + " bytes in a request of " + r.length());
        }
        if ((r.argInt(IO_IN_IO_FLAGS) & WRITE_KILL_SUIDGID) != 0 && Privileges.drop(fs, r, ino)) {
            out.invalidateAttributes(ino); // the kernel expects size and times to change, not the mode
        }
        int n = fs.write(ino, offset, r.buffer(), Request.absolute(WRITE_IN_SIZE), size);
        stats.written(out, n);
        out.putInt(0, n);
        out.putInt(4, 0);
        out.send(WRITE_OUT_SIZE);
    }

    /**
     * The last descriptor of an open file closed (or its process ended): its leases go, then its
     * fs-core handle (the last release of an unlinked file frees it).
     */
    void release(Request r, Reply out) {
        try {
            forget(r.argLong(RELEASE_IN_FH));
        } finally {
            fs.release(r.nodeid());
        }
        out.ok();
    }

    void fsync(Request r, Reply out) {
        fs.fsync(r.nodeid());
        out.ok();
    }

    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    /** lseek SEEK_DATA / SEEK_HOLE (the kernel answers SEEK_SET, SEEK_CUR and SEEK_END itself). */
    void lseek(Request r, Reply out) {
        long offset = r.argLong(LSEEK_IN_OFFSET);
        long result = switch (r.argInt(LSEEK_IN_WHENCE)) {
            case SEEK_DATA -> fs.seekData(r.nodeid(), offset);
            case SEEK_HOLE -> fs.seekHole(r.nodeid(), offset);
            default -> throw new FsException(Errno.EINVAL, "whence " + r.argInt(LSEEK_IN_WHENCE));
        };
        out.putLong(0, result);
        out.send(LSEEK_OUT_SIZE);
    }

    /**
     * copy_file_range(2) inside daxfs: the bytes go from device memory to device memory through
     * the worker's reply buffer, in pieces of at most its size, instead of crossing to the kernel
     * and back twice per piece. Stops at the end of the source; returns the bytes copied. A
     * writer without root loses the destination's set-user-ID bit as with write(2).
     */
    void copyFileRange(Request r, Reply out) {
        long in = r.nodeid();
        long offIn = r.argLong(CFR_IN_OFF_IN);
        long dst = r.argLong(CFR_IN_NODEID_OUT);
        long offOut = r.argLong(CFR_IN_OFF_OUT);
        long len = Math.min(r.argLong(CFR_IN_LEN), Integer.MAX_VALUE & ~4095L);
        if (r.argLong(CFR_IN_FLAGS) != 0) {
            throw new FsException(Errno.EINVAL, "copy_file_range flags");
        }
        if (r.uid() != 0 && Privileges.drop(fs, r, dst)) {
            out.invalidateAttributes(dst);
        }
        long chunk = Math.min(out.capacity(), options.maxWrite());
        long done = 0;
        while (done < len) {
            int n = fs.read(in, offIn + done, out.body(), Reply.bodyOffset(), (int) Math.min(chunk, len - done));
            if (n == 0) {
                break;
            }
            fs.write(dst, offOut + done, out.body(), Reply.bodyOffset(), n);
            done += n;
        }
        out.putInt(0, (int) done);
        out.putInt(4, 0);
        out.send(WRITE_OUT_SIZE);
    }

    void fallocate(Request r, Reply out) {
        FallocateModes.apply(fs, r.nodeid(), r.argInt(FALLOCATE_IN_MODE), r.argLong(FALLOCATE_IN_OFFSET),
                r.argLong(FALLOCATE_IN_LENGTH));
        out.ok();
    }
}
