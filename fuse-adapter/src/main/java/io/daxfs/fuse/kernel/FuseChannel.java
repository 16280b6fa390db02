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
 * The open {@code /dev/fuse} descriptor of one mount and the three system calls the session
 * makes on it: read(2) of the next request, write(2)/writev(2) of a reply. Downcalls through
 * {@link Linker}; errno is captured into a caller-owned segment ({@link #newCallState}), so a
 * worker thread allocates nothing per request.
 *
 * <p>Each method returns the byte count, or a negative errno. The errno values a worker must
 * know: ENOENT (the request was interrupted and answered already: ignore), EINTR and EAGAIN
 * (retry), ENODEV (the file system was unmounted: stop).
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

    private static final MethodHandle READ = downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = downcall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITEV = downcall("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));

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

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("C library has no " + name));
        return LINKER.downcallHandle(symbol, fd, CAPTURE_ERRNO);
    }

    /** Reads one whole request into {@code buffer}; blocks until there is one. */
    long read(MemorySegment state, MemorySegment buffer) {
        try {
            long n = (long) READ.invokeExact(state, fd, buffer, buffer.byteSize());
            return n >= 0 ? n : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Writes one whole reply from the first {@code length} bytes of {@code buffer}. */
    long write(MemorySegment state, MemorySegment buffer, long length) {
        try {
            long n = (long) WRITE.invokeExact(state, fd, buffer, length);
            return n >= 0 ? n : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Writes one whole reply gathered from {@code count} struct iovec at {@code iov}. */
    long writev(MemorySegment state, MemorySegment iov, int count) {
        try {
            long n = (long) WRITEV.invokeExact(state, fd, iov, count);
            return n >= 0 ? n : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
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
