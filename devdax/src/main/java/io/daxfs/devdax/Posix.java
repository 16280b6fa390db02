package io.daxfs.devdax;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The handful of Linux system calls the JDK does not offer, as {@link Linker} downcalls into
 * the C library: open(2), close(2), mmap(2), munmap(2), fallocate(2), fcntl(2) with open file
 * description locks, sysconf(3) and strerror(3).
 *
 * <p>Every call that can fail captures {@code errno} through
 * {@link Linker.Option#captureCallState} (reading errno after the call returned would race
 * with the JVM's own use of it) and throws {@link ErrnoException}.
 *
 * <p>The constants and the struct flock layout are the Linux values shared by x86-64 and
 * AArch64, the platforms daxfs supports; {@link #unsupportedPlatformReason()} lets callers
 * refuse anything else before a downcall is made (on other platforms none is even linked).
 */
final class Posix {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_NOCTTY = 0x100; // 0400: never become our controlling terminal
    static final int O_CLOEXEC = 0x80000; // 02000000

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ENXIO = 6;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int ENODEV = 19;
    static final int EISDIR = 21;
    static final int EINVAL = 22;
    static final int EROFS = 30;
    static final int EOPNOTSUPP = 95;

    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    /** MAP_SHARED that fails with EOPNOTSUPP on unknown flags instead of ignoring them. */
    static final int MAP_SHARED_VALIDATE = 0x03;
    static final int MAP_SYNC = 0x80000;

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;

    static final int F_OFD_SETLK = 37;
    static final short F_RDLCK = 0;
    static final short F_WRLCK = 1;
    static final short SEEK_SET = 0;

    private static final int SC_PAGESIZE = 30;

    /** struct flock on 64-bit Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid. */
    private static final StructLayout FLOCK = MemoryLayout.structLayout(
            JAVA_SHORT.withName("l_type"),
            JAVA_SHORT.withName("l_whence"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("l_start"),
            JAVA_LONG.withName("l_len"),
            JAVA_INT.withName("l_pid"),
            MemoryLayout.paddingLayout(4));

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    static final int MADV_POPULATE_WRITE = 23;
    /** The range may use transparent huge pages (what a tmpfs mounted huge=advise waits for). */
    static final int MADV_HUGEPAGE = 14;

    // Each downcall handle lives in its own holder class, created on first use: making one costs
    // about 10 ms of method-handle spinning (not kept by the AOT cache), and a mount needs only a
    // few of them. A static final in a holder stays a constant for the JIT.
    private static final class OpenCall {
        static final MethodHandle HANDLE = downcall("open",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    }

    private static final class CloseCall {
        static final MethodHandle HANDLE = downcall("close",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    }

    private static final class MmapCall {
        static final MethodHandle HANDLE = downcall("mmap",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
                CAPTURE_ERRNO);
    }

    private static final class MunmapCall {
        static final MethodHandle HANDLE = downcall("munmap",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    }

    private static final class MadviseCall {
        static final MethodHandle HANDLE = downcall("madvise",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    private static final class FallocateCall {
        static final MethodHandle HANDLE = downcall("fallocate",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    }

    private static final class FcntlPtrCall {
        static final MethodHandle HANDLE = downcall("fcntl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
                CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    }

    private static final class SysconfCall {
        static final MethodHandle HANDLE = downcall("sysconf",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    }

    private static final class StrerrorCall {
        static final MethodHandle HANDLE = downcall("strerror",
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    private static final class PageSize {
        static final long VALUE = querySysconf(SC_PAGESIZE, 4096);
    }

    private Posix() {
    }

    /** Null when this platform can run the downcalls, else why not (for the user). */
    static String unsupportedPlatformReason() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.equals("Linux")) {
            return "daxfs needs Linux (this is " + os + ")";
        }
        if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
            return "daxfs supports x86-64 and AArch64 Linux (this is " + arch + ")";
        }
        return null;
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        String unsupported = unsupportedPlatformReason();
        if (unsupported != null) {
            return null; // never called: every entry point checks the platform first
        }
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("C library has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    private static long querySysconf(int name, long fallback) {
        if (SysconfCall.HANDLE == null) {
            return fallback;
        }
        try {
            long v = (long) SysconfCall.HANDLE.invokeExact(name);
            return v > 0 ? v : fallback;
        } catch (Throwable t) {
            return fallback;
        }
    }

    /** The kernel's page size (the granularity of msync and hole punching). */
    static long pageSize() {
        return PageSize.VALUE;
    }

    /** open(2); returns the new file descriptor. */
    static int open(Path path, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment cPath = arena.allocateFrom(path.toString());
            int fd = (int) OpenCall.HANDLE.invokeExact(state, cPath, flags, 0);
            if (fd < 0) {
                throw new ErrnoException("open", errno(state));
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw linkageFailure("open", t);
        }
    }

    /** close(2). Errors are reported but the descriptor is gone either way (Linux semantics). */
    static void close(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) CloseCall.HANDLE.invokeExact(state, fd);
            if (rc != 0) {
                throw new ErrnoException("close", errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw linkageFailure("close", t);
        }
    }

    /** mmap(2) of {@code length} bytes of {@code fd} from offset 0; returns the start address. */
    static long mmap(long length, int prot, int flags, int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment addr = (MemorySegment) MmapCall.HANDLE.invokeExact(
                    state, MemorySegment.NULL, length, prot, flags, fd, 0L);
            if (addr.address() == -1L) { // MAP_FAILED
                throw new ErrnoException("mmap", errno(state));
            }
            return addr.address();
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw linkageFailure("mmap", t);
        }
    }

    /**
     * madvise(2) without errno: advice is best effort (MADV_POPULATE_WRITE needs Linux 5.14,
     * MADV_HUGEPAGE a kernel with transparent huge pages; others answer EINVAL and nothing
     * changes). Returns the call's result.
     */
    static int madvise(long address, long length, int advice) {
        try {
            return (int) MadviseCall.HANDLE.invokeExact(MemorySegment.ofAddress(address), length, advice);
        } catch (Throwable t) {
            return -1;
        }
    }

    /** munmap(2). */
    static void munmap(long address, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) MunmapCall.HANDLE.invokeExact(state, MemorySegment.ofAddress(address), length);
            if (rc != 0) {
                throw new ErrnoException("munmap", errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw linkageFailure("munmap", t);
        }
    }

    /** fallocate(2). */
    static void fallocate(int fd, int mode, long offset, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) FallocateCall.HANDLE.invokeExact(state, fd, mode, offset, length);
            if (rc != 0) {
                throw new ErrnoException("fallocate", errno(state));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw linkageFailure("fallocate", t);
        }
    }

    /**
     * Tries to take an open-file-description lock (F_OFD_SETLK) on the whole file, shared
     * (F_RDLCK) or exclusive (F_WRLCK), without waiting. Returns false when a conflicting lock
     * is held by another open file description, in this process or any other.
     */
    static boolean tryLockWholeFile(int fd, boolean shared) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment flock = arena.allocate(FLOCK); // zeroed: l_start = l_len = l_pid = 0
            flock.set(JAVA_SHORT, 0, shared ? F_RDLCK : F_WRLCK);
            flock.set(JAVA_SHORT, 2, SEEK_SET);
            int rc = (int) FcntlPtrCall.HANDLE.invokeExact(state, fd, F_OFD_SETLK, flock);
            if (rc == 0) {
                return true;
            }
            int errno = errno(state);
            if (errno == EAGAIN || errno == EACCES) {
                return false;
            }
            throw new ErrnoException("fcntl(F_OFD_SETLK)", errno);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw linkageFailure("fcntl", t);
        }
    }

    /** strerror(3): the C library's text for an errno value. */
    static String strerror(int errno) {
        if (StrerrorCall.HANDLE == null) {
            return "errno " + errno;
        }
        try {
            MemorySegment text = (MemorySegment) StrerrorCall.HANDLE.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static IllegalStateException linkageFailure(String call, Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("downcall " + call + " failed", t);
    }
}
