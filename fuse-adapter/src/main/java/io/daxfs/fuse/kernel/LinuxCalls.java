package io.daxfs.fuse.kernel;

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
 * The Linux system calls of the io_uring front end and of spliced READs ({@link SplicedRead}),
 * all through one downcall handle: glibc's {@code syscall(number, ...)} with six long
 * arguments. Bookworm's glibc has no io_uring wrappers, and every downcall handle costs tens of
 * milliseconds to make at mount time, so mmap, munmap, close, read, write, eventfd2,
 * sched_setaffinity, pipe2, splice, fcntl and ioctl go the same way (their numbers differ
 * between x86_64 and aarch64; io_uring's are the same on both).
 *
 * <p>{@link #call} captures nothing and allocates nothing (the request path's io_uring_enter);
 * it returns -1 on failure. {@link #checked} repeats a failed call with errno captured and
 * returns -errno: for set-up, and for a failed {@link #call} that may be repeated (a failed
 * io_uring_enter submitted nothing, so repeating it does what the first call would have done).
 */
final class LinuxCalls {
    private LinuxCalls() {
    }

    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EBUSY = 16;
    static final int EINVAL = 22;
    static final int EPERM = 1;
    static final int ENOSYS = 38;
    static final int ENOTCONN = 107;
    static final int ECONNABORTED = 103;
    static final int ECANCELED = 125;
    static final int ENODEV = 19;
    static final int EOPNOTSUPP = 95;

    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 0x01;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_POPULATE = 0x8000;
    static final int EFD_CLOEXEC = 0x80000;

    private static final boolean AARCH64 = System.getProperty("os.arch").equals("aarch64");
    static final long SYS_READ = AARCH64 ? 63 : 0;
    static final long SYS_WRITE = AARCH64 ? 64 : 1;
    static final long SYS_CLOSE = AARCH64 ? 57 : 3;
    static final long SYS_MMAP = AARCH64 ? 222 : 9;
    static final long SYS_MUNMAP = AARCH64 ? 215 : 11;
    static final long SYS_SCHED_SETAFFINITY = AARCH64 ? 122 : 203;
    static final long SYS_EVENTFD2 = AARCH64 ? 19 : 290;
    static final long SYS_PIPE2 = AARCH64 ? 59 : 293;
    static final long SYS_SPLICE = AARCH64 ? 76 : 275;
    static final long SYS_FCNTL = AARCH64 ? 25 : 72;
    static final long SYS_IOCTL = AARCH64 ? 29 : 16;

    /** Whether this architecture's numbers are known (x86_64 or aarch64). */
    static boolean supportedArchitecture() {
        String arch = System.getProperty("os.arch");
        return arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64");
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final FunctionDescriptor SYSCALL = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MemorySegment SYSCALL_FUNCTION = LINKER.defaultLookup().find("syscall")
            .orElseThrow(() -> new UnsatisfiedLinkError("C library has no syscall"));
    private static final MethodHandle RAW = LINKER.downcallHandle(SYSCALL_FUNCTION, SYSCALL,
            Linker.Option.firstVariadicArg(1));

    /** The same call with errno captured, made on first use (set-up, or a failure). */
    private static final class WithErrno {
        static final MethodHandle CALL = LINKER.downcallHandle(SYSCALL_FUNCTION,
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                        JAVA_LONG),
                Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    }

    /** Makes both downcall handles now, e.g. on a thread of its own at start-up. */
    static void prepare() {
        WithErrno.CALL.type(); // loading this class made the other one
    }

    /** A segment for errno capture, one per calling thread. */
    static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    /** syscall(nr, a...): the result, or -1 (errno not captured). No allocation. */
    static long call(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        try {
            return (long) RAW.invokeExact(nr, a1, a2, a3, a4, a5, a6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** syscall(nr, a...) with errno captured into {@code state}: the result, or -errno. */
    static long checked(MemorySegment state, long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        try {
            long r = (long) WithErrno.CALL.invokeExact(state, nr, a1, a2, a3, a4, a5, a6);
            return r == -1 ? -(int) ERRNO.get(state, 0L) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@link #checked} with a state segment of its own (set-up only: allocates). */
    static long checked(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
        try (Arena arena = Arena.ofConfined()) {
            return checked(newCallState(arena), nr, a1, a2, a3, a4, a5, a6);
        }
    }

    /** Anonymous private memory of {@code size} bytes (zero, committed as it is touched). */
    static MemorySegment mapAnonymous(long size) {
        long addr = checked(SYS_MMAP, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (addr < 0 && addr > -4096) {
            throw new NativeCallException("mmap of " + size + " bytes", (int) -addr);
        }
        return MemorySegment.ofAddress(addr).reinterpret(size);
    }

    /** munmap of a segment from {@link #mapAnonymous} or an io_uring ring; nothing may use it afterwards. */
    static void unmap(MemorySegment segment) {
        checked(SYS_MUNMAP, segment.address(), segment.byteSize(), 0, 0, 0, 0);
    }

    static void close(int fd) {
        if (fd >= 0) {
            checked(SYS_CLOSE, fd, 0, 0, 0, 0, 0);
        }
    }

    /**
     * Pins the calling thread to {@code cpu} (sched_setaffinity of thread 0, a 1024-bit mask).
     * Returns 0 or -errno (EINVAL: the CPU is not online).
     */
    static int pinCurrentThread(int cpu) {
        if (cpu < 0 || cpu >= 1024) {
            return -EINVAL;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(128, 8);
            mask.set(JAVA_LONG, (cpu / 64) * 8L, 1L << (cpu % 64));
            return (int) checked(newCallState(arena), SYS_SCHED_SETAFFINITY, 0, 128, mask.address(), 0, 0, 0);
        }
    }

    /** A system call failed with {@code errno}. */
    static final class NativeCallException extends RuntimeException {
        final int errno;

        NativeCallException(String what, int errno) {
            super(what + " failed: " + describe(errno));
            this.errno = errno;
        }
    }

    /** "errno N (NAME)" for the few errnos the io_uring set-up meets. */
    static String describe(int errno) {
        String name = switch (errno) {
            case EPERM -> "EPERM";
            case EINTR -> "EINTR";
            case EAGAIN -> "EAGAIN";
            case 12 -> "ENOMEM";
            case 13 -> "EACCES";
            case EBUSY -> "EBUSY";
            case ENODEV -> "ENODEV";
            case EINVAL -> "EINVAL";
            case 24 -> "EMFILE";
            case ENOSYS -> "ENOSYS";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case ECONNABORTED -> "ECONNABORTED";
            case ENOTCONN -> "ENOTCONN";
            case ECANCELED -> "ECANCELED";
            default -> null;
        };
        return "errno " + errno + (name == null ? "" : " (" + name + ")");
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
