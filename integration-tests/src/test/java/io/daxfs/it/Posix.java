package io.daxfs.it;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The system calls the fsx tester needs, as java.lang.foreign downcalls (a copy of the stress
 * test's, extended with fstat, fsync and mmap/msync/munmap). One instance per thread: the
 * errno capture buffer is confined to the thread that made it. A failing call throws
 * {@link ErrnoException} naming the call and errno.
 */
public final class Posix implements AutoCloseable {
    public static final int O_RDWR = 2;
    public static final int FALLOC_FL_KEEP_SIZE = 1;
    public static final int FALLOC_FL_PUNCH_HOLE = 2;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MS_SYNC = 4;
    public static final long PAGE = 4096;
    /** Offset of st_size in struct stat on x86_64 (and aarch64) Linux; the struct is 144 bytes. */
    private static final long ST_SIZE = 48;
    private static final long STAT_BYTES = 144;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final long ERRNO_OFFSET = Linker.Option.captureStateLayout()
            .byteOffset(MemoryLayout.PathElement.groupElement("errno"));
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
    private static final MethodHandle FSTAT = handle("fstat",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle FSYNC = handle("fsync",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle MMAP = handle("mmap",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MSYNC = handle("msync",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle MUNMAP = handle("munmap",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

    /** A system call that failed. */
    public static final class ErrnoException extends RuntimeException {
        final int errno;

        ErrnoException(String call, long rc, int errno) {
            super(call + " failed: rc=" + rc + " errno=" + errno);
            this.errno = errno;
        }
    }

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
    private final MemorySegment stat = arena.allocate(STAT_BYTES, 8);

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd, ERRNO);
    }

    private ErrnoException fail(String call, long rc) {
        return new ErrnoException(call, rc, state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET));
    }

    /** open(path, O_RDWR) of an existing file. */
    public int open(String path) {
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

    public void close(int fd) {
        try {
            int rc = (int) CLOSE.invokeExact(state, fd);
            if (rc != 0) {
                throw fail("close", rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Reads until {@code len} bytes or end of file; returns the bytes read. */
    public long preadFully(int fd, MemorySegment buf, long len, long off) {
        try {
            long done = 0;
            while (done < len) {
                long n = (long) PREAD.invokeExact(state, fd, buf.asSlice(done), len - done, off + done);
                if (n < 0) {
                    throw fail("pread(" + (len - done) + " bytes at " + (off + done) + ")", n);
                }
                if (n == 0) {
                    break;
                }
                done += n;
            }
            return done;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void pwriteFully(int fd, MemorySegment buf, long len, long off) {
        try {
            long done = 0;
            while (done < len) {
                long n = (long) PWRITE.invokeExact(state, fd, buf.asSlice(done), len - done, off + done);
                if (n <= 0) {
                    throw fail("pwrite(" + (len - done) + " bytes at " + (off + done) + ")", n);
                }
                done += n;
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void fallocate(int fd, int mode, long off, long len) {
        try {
            int rc = (int) FALLOCATE.invokeExact(state, fd, mode, off, len);
            if (rc != 0) {
                throw fail("fallocate(mode " + mode + ", " + off + ", " + len + ")", rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void ftruncate(int fd, long size) {
        try {
            int rc = (int) FTRUNCATE.invokeExact(state, fd, size);
            if (rc != 0) {
                throw fail("ftruncate(" + size + ")", rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void fsync(int fd) {
        try {
            int rc = (int) FSYNC.invokeExact(state, fd);
            if (rc != 0) {
                throw fail("fsync", rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** st_size from fstat. */
    public long fstatSize(int fd) {
        try {
            int rc = (int) FSTAT.invokeExact(state, fd, stat);
            if (rc != 0) {
                throw fail("fstat", rc);
            }
            return stat.get(ValueLayout.JAVA_LONG, ST_SIZE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mmap(NULL, len, prot, MAP_SHARED, fd, off) as a segment of {@code len} bytes. */
    public MemorySegment mmapShared(int fd, long len, int prot, long off) {
        try {
            MemorySegment p = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, len, prot, MAP_SHARED, fd, off);
            if (p.address() == -1L) {
                throw fail("mmap(" + len + " bytes at " + off + ")", -1);
            }
            return p.reinterpret(len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void msync(MemorySegment map) {
        try {
            int rc = (int) MSYNC.invokeExact(state, map, map.byteSize(), MS_SYNC);
            if (rc != 0) {
                throw fail("msync", rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void munmap(MemorySegment map) {
        try {
            int rc = (int) MUNMAP.invokeExact(state, map, map.byteSize());
            if (rc != 0) {
                throw fail("munmap", rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    /** {@code t} as an unchecked exception to throw: itself if it is one, an Error thrown as it is, else wrapped. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
