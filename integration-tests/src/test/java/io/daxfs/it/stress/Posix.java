package io.daxfs.it.stress;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** The few system calls the stress worker needs, as java.lang.foreign downcalls. */
final class Posix {
    static final int O_RDWR = 2;
    static final int FALLOC_FL_KEEP_SIZE = 1;
    static final int FALLOC_FL_PUNCH_HOLE = 2;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final long ERRNO_OFFSET = Linker.Option.captureStateLayout()
            .byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = handle("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle PREAD = handle("pread",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle PWRITE = handle("pwrite",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle FALLOCATE = handle("fallocate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle FTRUNCATE = handle("ftruncate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd, ERRNO);
    }

    private IllegalStateException fail(String call, long rc) {
        return new IllegalStateException(call + " failed: rc=" + rc + " errno=" + state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET));
    }

    int open(String path) {
        try {
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), O_RDWR);
            if (fd < 0) {
                throw fail("open " + path, fd);
            }
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void close(int fd) {
        try {
            int rc = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    long pread(int fd, MemorySegment buf, long len, long off) {
        try {
            long n = (long) PREAD.invokeExact(state, fd, buf, len, off);
            if (n < 0) {
                throw fail("pread", n);
            }
            return n;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void pwriteFully(int fd, MemorySegment buf, long len, long off) {
        try {
            long done = 0;
            while (done < len) {
                long n = (long) PWRITE.invokeExact(state, fd, buf.asSlice(done), len - done, off + done);
                if (n <= 0) {
                    throw fail("pwrite", n);
                }
                done += n;
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void fallocate(int fd, int mode, long off, long len) {
        try {
            int rc = (int) FALLOCATE.invokeExact(state, fd, mode, off, len);
            if (rc != 0) {
                throw fail("fallocate mode " + mode, rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void ftruncate(int fd, long size) {
        try {
            int rc = (int) FTRUNCATE.invokeExact(state, fd, size);
            if (rc != 0) {
                throw fail("ftruncate", rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
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
