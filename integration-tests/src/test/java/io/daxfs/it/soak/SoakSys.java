package io.daxfs.it.soak;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static io.daxfs.it.Posix.rethrow;

/**
 * The system calls of the kill -9 soak's workload, one downcall each (java.lang.foreign), so
 * that every logged operation is exactly the calls it names and each failure carries its errno.
 * One instance per thread (the errno capture buffer is confined to its thread). Paths are passed
 * as UTF-8.
 */
final class SoakSys implements AutoCloseable {
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int AT_FDCWD = -100;
    static final int RENAME_NOREPLACE = 1;
    static final int RENAME_EXCHANGE = 2;
    static final int ENOENT = 2;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ENOSYS = 38;
    static final int ECONNABORTED = 103;
    static final int ENOTCONN = 107;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final long ERRNO_OFFSET = Linker.Option.captureStateLayout()
            .byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final ValueLayout P = ValueLayout.ADDRESS;

    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(I, P, I, I),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(I, I));
    private static final MethodHandle PWRITE = handle("pwrite", FunctionDescriptor.of(L, I, P, L, L));
    private static final MethodHandle FSYNC = handle("fsync", FunctionDescriptor.of(I, I));
    private static final MethodHandle TRUNCATE = handle("truncate", FunctionDescriptor.of(I, P, L));
    private static final MethodHandle UNLINK = handle("unlink", FunctionDescriptor.of(I, P));
    private static final MethodHandle MKDIR = handle("mkdir", FunctionDescriptor.of(I, P, I));
    private static final MethodHandle RMDIR = handle("rmdir", FunctionDescriptor.of(I, P));
    private static final MethodHandle RENAMEAT2 = handle("renameat2", FunctionDescriptor.of(I, I, P, I, P, I));
    private static final MethodHandle LINK = handle("link", FunctionDescriptor.of(I, P, P));
    private static final MethodHandle SYMLINK = handle("symlink", FunctionDescriptor.of(I, P, P));
    private static final MethodHandle SETXATTR = handle("setxattr", FunctionDescriptor.of(I, P, P, P, L, I));
    private static final MethodHandle REMOVEXATTR = handle("removexattr", FunctionDescriptor.of(I, P, P));
    private static final MethodHandle CHMOD = handle("chmod", FunctionDescriptor.of(I, P, I));
    private static final MethodHandle UTIMENSAT = handle("utimensat", FunctionDescriptor.of(I, I, P, P, I));
    private static final MethodHandle UMASK = LINKER.downcallHandle(LIBC.find("umask").orElseThrow(),
            FunctionDescriptor.of(I, I));

    /** A system call that failed, with its errno. */
    static final class Errno extends RuntimeException {
        final int errno;

        Errno(String call, int errno) {
            super(call + ": errno " + errno);
            this.errno = errno;
        }
    }

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
    private final MemorySegment times = arena.allocate(32, 8);

    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd, options);
    }

    private int check(String call, long rc) {
        if (rc < 0) {
            throw new Errno(call, state.get(ValueLayout.JAVA_INT, ERRNO_OFFSET));
        }
        return (int) rc;
    }

    /** Sets the process's umask (so that the modes the workload asks for are the modes files get). */
    static int umask(int mask) {
        try {
            return (int) UMASK.invokeExact(mask);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return check("open", (int) OPEN.invokeExact(state, a.allocateFrom(path), flags, mode));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void close(int fd) {
        try {
            check("close", (int) CLOSE.invokeExact(state, fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pwrite until all of {@code buf} is written. */
    void pwriteFully(int fd, MemorySegment buf, long off) {
        try {
            long done = 0;
            while (done < buf.byteSize()) {
                long n = (long) PWRITE.invokeExact(state, fd, buf.asSlice(done), buf.byteSize() - done, off + done);
                if (n == 0) {
                    throw new Errno("pwrite returned 0", EIO);
                }
                done += check("pwrite", n);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void fsync(int fd) {
        try {
            check("fsync", (int) FSYNC.invokeExact(state, fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void truncate(String path, long size) {
        try (Arena a = Arena.ofConfined()) {
            check("truncate", (int) TRUNCATE.invokeExact(state, a.allocateFrom(path), size));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void unlink(String path) {
        try (Arena a = Arena.ofConfined()) {
            check("unlink", (int) UNLINK.invokeExact(state, a.allocateFrom(path)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void mkdir(String path, int mode) {
        try (Arena a = Arena.ofConfined()) {
            check("mkdir", (int) MKDIR.invokeExact(state, a.allocateFrom(path), mode));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void rmdir(String path) {
        try (Arena a = Arena.ofConfined()) {
            check("rmdir", (int) RMDIR.invokeExact(state, a.allocateFrom(path)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** renameat2(AT_FDCWD, from, AT_FDCWD, to, flags); flags 0 is rename(2). */
    void rename(String from, String to, int flags) {
        try (Arena a = Arena.ofConfined()) {
            check("renameat2", (int) RENAMEAT2.invokeExact(state, AT_FDCWD, a.allocateFrom(from), AT_FDCWD,
                    a.allocateFrom(to), flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void link(String existing, String newPath) {
        try (Arena a = Arena.ofConfined()) {
            check("link", (int) LINK.invokeExact(state, a.allocateFrom(existing), a.allocateFrom(newPath)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void symlink(String target, String linkPath) {
        try (Arena a = Arena.ofConfined()) {
            check("symlink", (int) SYMLINK.invokeExact(state, a.allocateFrom(target), a.allocateFrom(linkPath)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void setxattr(String path, String name, byte[] value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
            check("setxattr", (int) SETXATTR.invokeExact(state, a.allocateFrom(path), a.allocateFrom(name), v,
                    (long) value.length, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void removexattr(String path, String name) {
        try (Arena a = Arena.ofConfined()) {
            check("removexattr", (int) REMOVEXATTR.invokeExact(state, a.allocateFrom(path), a.allocateFrom(name)));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void chmod(String path, int mode) {
        try (Arena a = Arena.ofConfined()) {
            check("chmod", (int) CHMOD.invokeExact(state, a.allocateFrom(path), mode));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** utimensat(AT_FDCWD, path, {atime, mtime}, 0) with atime = mtime = the given time. */
    void utimens(String path, long seconds, long nanos) {
        times.set(ValueLayout.JAVA_LONG, 0, seconds);
        times.set(ValueLayout.JAVA_LONG, 8, nanos);
        times.set(ValueLayout.JAVA_LONG, 16, seconds);
        times.set(ValueLayout.JAVA_LONG, 24, nanos);
        try (Arena a = Arena.ofConfined()) {
            check("utimensat", (int) UTIMENSAT.invokeExact(state, AT_FDCWD, a.allocateFrom(path), times, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
