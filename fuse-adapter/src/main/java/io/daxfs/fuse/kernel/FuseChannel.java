package io.daxfs.fuse.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The open {@code /dev/fuse} descriptor of one mount and the two system calls the session
 * makes on it: read(2) of the next request, write(2) of a reply or a notification. Downcalls through
 * {@link Linker}, with the buffer passed as a raw address and no errno capture on the way
 * that succeeds, so a worker thread allocates nothing per request; a failed call is repeated
 * with errno captured into a caller-owned segment ({@link #newCallState}).
 *
 * <p>Each method returns the byte count, or a negative errno. The errno values a worker must
 * know: ENOENT (the request was interrupted and answered already: ignore), EINTR and EAGAIN
 * (retry), ENODEV (the file system was unmounted: stop).
 *
 * <p>Concurrency: shared by every worker of the mount, without a lock: the kernel hands each
 * read(2) one whole request and takes each write(2) as one whole reply, whatever the other
 * threads do; the call state segment is each caller's own.
 */
final class FuseChannel {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EIO = 5;
    static final int EAGAIN = 11;
    static final int ENODEV = 19;
    static final int EINVAL = 22;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /**
     * One handle for read(2) and write(2), which share a signature: the function's address is
     * its first argument. Making a downcall handle costs tens of milliseconds of method-handle
     * spinning at start-up (the AOT cache cannot keep it), so the fewer the better.
     *
     * <p>The buffer travels as a raw address and errno is not captured: in C1-compiled code
     * (the daemon's) a downcall that captures errno, or takes a segment of a confined arena,
     * allocates an object per call (40 bytes measured), and these two calls are made for every
     * request. Callers pass buffers they own and keep alive. When a call fails, it is made
     * once more through {@link WithErrno} to learn why: a failed read(2) or write(2) of
     * /dev/fuse consumed nothing, so repeating it is what the caller would do anyway (a
     * repeated read may return a request; a repeated write fails the same way or delivers the
     * reply once).
     */
    private static final MethodHandle IO = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));

    /** The same calls with errno captured, made on first failure (at the latest, at unmount). */
    private static final class WithErrno {
        static final MethodHandle IO = LINKER.downcallHandle(
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    }
    private static final MemorySegment READ = symbol("read");
    private static final MemorySegment WRITE = symbol("write");

    private final int fd;

    FuseChannel(int fd) {
        this.fd = fd;
    }

    int fd() {
        return fd;
    }

    /** A segment for errno capture, one per calling thread. */
    static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    private static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("C library has no " + name));
    }

    /** Creates the downcall handle now (class initialisation), e.g. on a thread of its own during start-up. */
    static void prepare() {
        // nothing: loading the class made the handle
    }

    /** Reads one whole request into {@code buffer}; blocks until there is one. */
    long read(MemorySegment state, MemorySegment buffer) {
        return call(READ, state, buffer, buffer.byteSize());
    }

    /** Writes one whole reply from the first {@code length} bytes of {@code buffer}. */
    long write(MemorySegment state, MemorySegment buffer, long length) {
        if (length > buffer.byteSize()) {
            throw new IndexOutOfBoundsException("reply of " + length + " bytes in a buffer of " + buffer.byteSize());
        }
        return call(WRITE, state, buffer, length);
    }

    /**
     * Writes a notification to the kernel: struct fuse_out_header with {@code code} in the error
     * field and unique 0, then {@code fields} as 64-bit words (FUSE_NOTIFY_POLL: kh;
     * FUSE_NOTIFY_INVAL_INODE: ino, offset, length). For the rare notifications of leases, from
     * any thread: it allocates its own buffer. Returns the byte count or a negative errno
     * (ENOENT: the kernel has no such inode or poll handle, which is as good).
     */
    long notify(int code, long... fields) {
        try (Arena arena = Arena.ofConfined()) {
            int length = FuseAbi.OUT_HEADER_SIZE + 8 * fields.length;
            MemorySegment m = arena.allocate(length, 8);
            m.set(JAVA_INT, FuseAbi.OUT_LEN, length);
            m.set(JAVA_INT, FuseAbi.OUT_ERROR, code);
            m.set(JAVA_LONG, FuseAbi.OUT_UNIQUE, 0L);
            for (int i = 0; i < fields.length; i++) {
                m.set(JAVA_LONG, FuseAbi.OUT_HEADER_SIZE + 8L * i, fields[i]);
            }
            return write(newCallState(arena), m, length);
        }
    }

    /** read(2) or write(2) ({@code function}) of {@code length} bytes; on failure again with errno captured. */
    private long call(MemorySegment function, MemorySegment state, MemorySegment buffer, long length) {
        try {
            requireNative(buffer);
            long n = (long) IO.invokeExact(function, fd, buffer.address(), length);
            if (n >= 0) {
                return n;
            }
            n = (long) WithErrno.IO.invokeExact(function, state, fd, buffer, length);
            return n >= 0 ? n : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void requireNative(MemorySegment buffer) {
        if (!buffer.isNative()) {
            throw new IllegalArgumentException("/dev/fuse buffers must be native memory");
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
