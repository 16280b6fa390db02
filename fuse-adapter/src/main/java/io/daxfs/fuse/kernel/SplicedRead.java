package io.daxfs.fuse.kernel;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.data.ReadSink;
import io.daxfs.devdax.PmemRegion;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A large READ answered with splice(2) instead of a copy: the reply's header is written into a
 * pipe, the file's bytes are spliced into it from the image file by reference, and the pipe is
 * spliced into /dev/fuse, where the kernel copies the pages into the reader's page cache. The
 * bytes are copied once in the daemon's half of the round trip instead of twice (pread into
 * the reply buffer, then write(2) of the buffer); docs/kernel-frontend.md, "Large reads
 * spliced from the image".
 *
 * <p>Invariant: the pipe is empty between requests. Whatever a refused, failed or interrupted
 * reply left in it is drained before the request is answered another way. While the pipe holds
 * the file's pages, fs-core keeps their blocks referenced on the busy-extent list
 * ({@link ReadSink}): a truncate or unlink meanwhile frees them, but they cannot be reused, so
 * the reply carries this file's bytes and never another's.
 *
 * <p>One per worker thread (the pipe is the worker's own, and so is the reply it answers); no
 * lock. Nothing is allocated per request. Only for image files: a /dev/dax device has no page
 * cache to splice from, and its region refuses the first splice, which turns this off.
 */
final class SplicedRead implements ReadSink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SplicedRead.class);
    /** The daemon's log says once how its READs go: spliced (at the first) or copied (and why). */
    private static volatile boolean told;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_CLOEXEC = 0x80000;
    private static final int F_SETPIPE_SZ = 1031;
    static final int FIONREAD = 0x541B;
    private static final long PAGE = 4096;
    /** Zeros written into the pipe for holes; never written otherwise. */
    private static final class Zeros {
        static final long SIZE = 64 * 1024;
        static final MemorySegment BLOCK = Arena.global().allocate(SIZE, 4096);
    }

    private final FuseChannel channel;
    private final int minLength;
    private final long wanted;
    private final MemorySegment state;
    private final MemorySegment header;
    private final MemorySegment scratch;
    private int pipeRead = -1;
    private int pipeWrite = -1;
    /** Buffers (pages) the pipe holds; 0 until it exists. */
    private long pipePages;
    private boolean off;
    private Reply out;
    private long unique;
    /** Bytes put into the pipe for the reply under way. */
    private long queued;

    /**
     * @param minLength reads of fewer bytes are copied (a splice costs two more system calls)
     * @param maxWrite  the largest READ a request may ask for
     * @param state     errno capture of the worker
     * @param scratch   room to drain an abandoned reply into (the worker's reply buffer)
     */
    SplicedRead(FuseChannel channel, int minLength, int maxWrite, MemorySegment state, MemorySegment scratch,
                Arena arena) {
        this.channel = channel;
        this.minLength = Math.max(minLength, 1);
        this.wanted = 2L * maxWrite;
        this.state = state;
        this.header = arena.allocate(FuseAbi.OUT_HEADER_SIZE, 8);
        this.scratch = scratch;
    }

    /**
     * Answers a READ of up to {@code length} bytes at {@code offset} of {@code ino} by splice.
     * Returns the bytes sent; 0 at the end of the file, -1 when it did not answer (too short,
     * turned off, or refused): then the caller answers, and the pipe is empty again.
     */
    int read(DaxFileSystem fs, long ino, long offset, int length, Reply out) {
        if (length < minLength || off || !ready()) {
            return -1;
        }
        this.out = out;
        this.unique = out.unique();
        queued = 0;
        try {
            return fs.read(ino, offset, length, this);
        } finally {
            if (queued != 0) { // refused or failed midway: what it put into the pipe goes
                drain();
            }
            this.out = null;
        }
    }

    /**
     * Writes the reply's header into the pipe, if the pipe has a buffer for it and one for each
     * page of the bytes. A read that starts inside a page, or has holes, may need one more per
     * piece: then a splice or write comes back short and the read is copied instead.
     */
    @Override
    public boolean begin(int length) {
        if (1 + (length + PAGE - 1) / PAGE > pipePages) {
            return false;
        }
        header.set(JAVA_INT_UNALIGNED, FuseAbi.OUT_LEN, FuseAbi.OUT_HEADER_SIZE + length);
        header.set(JAVA_INT_UNALIGNED, FuseAbi.OUT_ERROR, 0);
        header.set(JAVA_LONG_UNALIGNED, FuseAbi.OUT_UNIQUE, unique);
        long n = LinuxCalls.call(LinuxCalls.SYS_WRITE, pipeWrite, header.address(), FuseAbi.OUT_HEADER_SIZE, 0, 0, 0);
        if (n > 0) {
            queued += n;
        }
        return n == FuseAbi.OUT_HEADER_SIZE;
    }

    @Override
    public boolean data(PmemRegion region, long deviceOffset, long length) {
        long n = region.spliceToPipe(deviceOffset, pipeWrite, length);
        if (n < 0) {
            off = true; // this region never can (a device, a read-only mount): stop trying
            tell("READs are copied: this device cannot be spliced from (a /dev/dax device or a read-only mount)");
        }
        if (n > 0) {
            queued += n;
        }
        return n == length;
    }

    @Override
    public boolean zeros(long length) {
        long done = 0;
        while (done < length) {
            long n = LinuxCalls.call(LinuxCalls.SYS_WRITE, pipeWrite, Zeros.BLOCK.address(),
                    Math.min(Zeros.SIZE, length - done), 0, 0, 0);
            if (n <= 0) {
                return false;
            }
            queued += n;
            done += n;
        }
        return true;
    }

    /**
     * Splices the reply into /dev/fuse; the blocks are still referenced. The kernel takes the
     * pipe's buffers whatever it then does with them, so the pipe is empty afterwards; a
     * failure that leaves it empty is the kernel's ENOENT (the request was interrupted and
     * answered already), as for a written reply. No errno is captured on the way that works
     * (capturing allocates in C1's code); a failure that leaves the reply in the pipe is a
     * malformed reply, a bug.
     */
    @Override
    public void end(int length) {
        long n = LinuxCalls.call(LinuxCalls.SYS_SPLICE, pipeRead, 0, channel.fd(), 0, queued, 0);
        if (n == queued || n < 0 && pipeEmpty()) {
            queued = 0;
            out.spliced();
            if (!told) {
                tell("READs of " + minLength / 1024 + " KiB or more are spliced from the image (pipes of "
                        + pipePages * PAGE / 1024 + " KiB)");
            }
            return;
        }
        throw new Reply.ReplyFailedException(unique, FuseChannel.EIO);
    }

    private boolean pipeEmpty() {
        return bytesInPipe() == 0;
    }

    /** FIONREAD of the pipe: the bytes in it, or -1 if the kernel did not say. Uses the header's room. */
    private int bytesInPipe() {
        long r = LinuxCalls.checked(state, LinuxCalls.SYS_IOCTL, pipeRead, FIONREAD, header.address(), 0, 0, 0);
        return r < 0 ? -1 : header.get(JAVA_INT, 0);
    }

    private static void tell(String how) {
        if (!told) {
            told = true;
            LOG.info(how);
        }
    }

    /** Creates the worker's pipe on first use; false (and off for good) if the kernel refuses. */
    private boolean ready() {
        if (pipeRead >= 0) {
            return true;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(8, 4);
            long r = LinuxCalls.checked(state, LinuxCalls.SYS_PIPE2, fds.address(), O_NONBLOCK | O_CLOEXEC, 0, 0, 0, 0);
            if (r < 0) {
                off = true;
                tell("READs are copied: no pipe (errno " + -r + ")");
                return false;
            }
            pipeRead = fds.get(JAVA_INT, 0);
            pipeWrite = fds.get(JAVA_INT, 4);
        }
        pipePages = enlarge(state, pipeWrite, wanted) / PAGE;
        if (pipePages * PAGE < minLength + PAGE) {
            close();
            off = true;
            tell("READs are copied: a pipe of " + pipePages * PAGE / 1024 + " KiB is too small");
            return false;
        }
        return true;
    }

    /**
     * Makes pipe {@code fd} hold {@code wanted} bytes, or as much as this process may: beyond
     * /proc/sys/fs/pipe-max-size (1 MiB by default) only with CAP_SYS_RESOURCE. Returns the
     * pipe's size in bytes, or 0 if it could not be set at all.
     */
    private static long enlarge(MemorySegment state, int fd, long wanted) {
        for (long size = wanted; size >= PAGE; size /= 2) {
            long r = LinuxCalls.checked(state, LinuxCalls.SYS_FCNTL, fd, F_SETPIPE_SZ, size, 0, 0, 0);
            if (r > 0) {
                return r;
            }
        }
        return 0;
    }

    /**
     * The largest READ a worker's pipe takes whole with its header (a page each): the size of
     * the pipe this process may make, less a page; or {@code maxWrite} when the pipe takes a
     * READ of that size. The kernel front end mounts with max_read set to this when it is
     * smaller (and the user gave none), so the kernel's readahead asks for reads a pipe takes:
     * without CAP_SYS_RESOURCE a pipe holds 1 MiB, one page short of a 1 MiB READ and its
     * header. 0: no pipe could be made.
     */
    static int largestRead(int maxWrite) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = LinuxCalls.newCallState(a);
            MemorySegment fds = a.allocate(8, 4);
            if (LinuxCalls.checked(state, LinuxCalls.SYS_PIPE2, fds.address(), O_CLOEXEC, 0, 0, 0, 0) < 0) {
                return 0;
            }
            try {
                long size = enlarge(state, fds.get(JAVA_INT, 4), 2L * maxWrite);
                return (int) Math.max(0, Math.min(maxWrite, size - PAGE));
            } finally {
                LinuxCalls.close(fds.get(JAVA_INT, 0));
                LinuxCalls.close(fds.get(JAVA_INT, 4));
            }
        }
    }

    /** Empties the pipe of an abandoned reply (FIONREAD says how much is left). */
    private void drain() {
        queued = 0;
        while (true) {
            int left = bytesInPipe();
            if (left <= 0) {
                return;
            }
            long n = LinuxCalls.checked(state, LinuxCalls.SYS_READ, pipeRead, scratch.address(),
                    Math.min(left, scratch.byteSize()), 0, 0, 0);
            if (n <= 0) {
                // A pipe that cannot be emptied must not take another reply.
                close();
                off = true;
                return;
            }
        }
    }

    @Override
    public void close() {
        LinuxCalls.close(pipeRead);
        LinuxCalls.close(pipeWrite);
        pipeRead = -1;
        pipeWrite = -1;
    }
}
