package io.daxfs.lease;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The system calls a lease client makes (Linux, 64-bit): open, close, ioctl, mmap, madvise, munmap,
 * poll and statx, through {@link Linker} downcalls that capture errno. Failures throw
 * {@link LeaseException} with the errno.
 */
final class Native {
    private Native() {
    }

    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_DIRECTORY = 0200000;
    static final int O_CLOEXEC = 02000000;
    static final int PROT_NONE = 0;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int MAP_PRIVATE = 2;
    static final int MAP_FIXED = 0x10;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    /** madvise: the range may use transparent huge pages (a tmpfs mounted huge=advise asks for it). */
    static final int MADV_HUGEPAGE = 14;
    static final short POLLPRI = 2;
    static final int EINTR = 4;
    static final int ENOTTY = 25;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            ERRNO_OPTION, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO_OPTION);
    private static final MethodHandle IOCTL = handle("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            ERRNO_OPTION, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = handle("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO_OPTION);
    private static final MethodHandle MUNMAP = handle("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG),
            ERRNO_OPTION);
    private static final MethodHandle MADVISE = handle("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle POLL = handle("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
            ERRNO_OPTION);
    private static final MethodHandle STATX = handle("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), ERRNO_OPTION);

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment f = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no " + name));
        return LINKER.downcallHandle(f, fd, options);
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static int open(String path, int flags) throws LeaseException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(st, a.allocateFrom(path), flags | O_CLOEXEC, 0);
            if (fd < 0) {
                throw new LeaseException(errno(st), "cannot open " + path);
            }
            return fd;
        } catch (LeaseException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) CLOSE.invokeExact(a.allocate(CAPTURE), fd);
            assert rc == 0 || rc == -1;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** ioctl(fd, request, message); returns its result (>= 0). */
    static int ioctl(int fd, int request, MemorySegment message, String what) throws LeaseException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            while (true) {
                int rc = (int) IOCTL.invokeExact(st, fd, Integer.toUnsignedLong(request), message);
                if (rc >= 0) {
                    return rc;
                }
                int errno = errno(st);
                if (errno != EINTR) {
                    throw new LeaseException(errno, what);
                }
            }
        } catch (LeaseException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** mmap(2); returns the address. */
    static long mmap(long address, long length, int prot, int flags, int fd, long offset) throws LeaseException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long p = (long) MMAP.invokeExact(st, address, length, prot, flags, fd, offset);
            if (p == -1L) {
                throw new LeaseException(errno(st), "mmap of " + length + " bytes at offset " + offset);
            }
            return p;
        } catch (LeaseException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * madvise(2), best effort: returns its result (0, or -1 where the kernel does not take the
     * advice - no transparent huge pages, an old kernel) and never throws; advice changes
     * nothing that a caller could observe except speed.
     */
    static int madvise(long address, long length, int advice) {
        try {
            return (int) MADVISE.invokeExact(address, length, advice);
        } catch (Throwable t) {
            return -1;
        }
    }

    static void munmap(long address, long length) {
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) MUNMAP.invokeExact(a.allocate(CAPTURE), address, length);
            assert rc == 0 || rc == -1;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** poll(2) of one descriptor for {@code events}; returns the revents (0 on timeout). */
    static int poll(int fd, short events, int timeoutMillis) throws LeaseException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment pfd = a.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(JAVA_SHORT, 4, events);
            pfd.set(JAVA_SHORT, 6, (short) 0);
            while (true) {
                int rc = (int) POLL.invokeExact(st, pfd, 1L, timeoutMillis);
                if (rc >= 0) {
                    return rc == 0 ? 0 : pfd.get(JAVA_SHORT, 6) & 0xFFFF;
                }
                if (errno(st) != EINTR) {
                    throw new LeaseException(errno(st), "poll");
                }
            }
        } catch (LeaseException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The identity statx(2) gives of an open descriptor: {dev major, dev minor, ino, rdev major, rdev minor}. */
    static long[] identity(int fd) throws LeaseException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment buf = a.allocate(256, 8);
            int rc = (int) STATX.invokeExact(st, fd, a.allocateFrom(""), 0x1000 /* AT_EMPTY_PATH */,
                    0x7ff /* STATX_BASIC_STATS */, buf);
            if (rc != 0) {
                throw new LeaseException(errno(st), "statx");
            }
            return new long[] {Integer.toUnsignedLong(buf.get(JAVA_INT, 136)), Integer.toUnsignedLong(buf.get(JAVA_INT, 140)),
                    buf.get(JAVA_LONG, 32), Integer.toUnsignedLong(buf.get(JAVA_INT, 128)),
                    Integer.toUnsignedLong(buf.get(JAVA_INT, 132))};
        } catch (LeaseException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
