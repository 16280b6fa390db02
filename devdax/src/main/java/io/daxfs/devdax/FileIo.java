package io.daxfs.devdax;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

/**
 * Bulk stores into a pmem-backed file through pwrite(2) on its descriptor instead of through
 * the mapping, and bulk loads through pread(2). Both reach the same memory (the file's page cache pages, or the persistent memory
 * itself on a DAX file system), so every mapping sees the bytes at once and flush/fence keep
 * their meaning: msync writes back the file's dirty pages however they were dirtied, and a DAX
 * file system writes pwrite data to pmem directly.
 *
 * <p>Why: a store through the mapping to a page the file does not back yet (a new image, or a
 * range {@link HolePuncher} gave back) faults once per 4 KiB page, and the file system zeroes
 * each faulted page before the store overwrites it. pwrite of whole pages allocates without
 * zeroing and without a fault, and the pages are not mapped into this process (the daemon's
 * resident set does not grow by the data it writes or reads). Measured: docs/devdax.md, "Bulk loads and stores of image files".
 *
 * <p>No errno is captured (nothing to allocate per call): a failed or short write returns what
 * was written and the caller stores the rest through the mapping, which either works or raises
 * the same error as a SIGBUS-free exception path would.
 */
final class FileIo {
    /**
     * Loads and stores of at least a page go through the descriptor; shorter ones (metadata, the
     * odd bytes of a small write) through the mapping, where they cost no system call. A page
     * read or written through the mapping stays mapped (and counted in the daemon's RSS) until
     * unmount; through the descriptor it never is.
     */
    static final long MIN_LENGTH = 4096;

    /**
     * One handle for pread(2) and pwrite(2) (same signature; the address is the first argument),
     * made on first use: a mount that moves no data pays nothing for it at start-up. The buffer
     * travels as a raw address ({@code JAVA_LONG}), not as a segment: slicing a segment per call
     * would allocate on every request (the daemon runs C1 code, which does not optimize such
     * allocations away). Callers pass native memory they keep alive for the call.
     */
    private static final class Calls {
        static final Linker LINKER = Linker.nativeLinker();
        static final MethodHandle IO = LINKER.downcallHandle(
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        static final MemorySegment PREAD = LINKER.defaultLookup().find("pread").orElseThrow();
        static final MemorySegment PWRITE = LINKER.defaultLookup().find("pwrite").orElseThrow();
    }

    private final int fd;

    FileIo(int fd) {
        this.fd = fd;
    }

    /**
     * Writes {@code length} bytes of native memory {@code src} from {@code srcOffset} to file
     * offset {@code offset}; returns how many were written (all, unless the kernel refused).
     */
    long write(long offset, MemorySegment src, long srcOffset, long length) {
        return transfer(Calls.PWRITE, offset, src, srcOffset, length);
    }

    /**
     * Reads {@code length} bytes at file offset {@code offset} into native memory {@code dst}
     * from {@code dstOffset}; returns how many were read (the caller copies the rest from the
     * mapping).
     */
    long read(long offset, MemorySegment dst, long dstOffset, long length) {
        return transfer(Calls.PREAD, offset, dst, dstOffset, length);
    }

    /** Zeros pwritten from; never written, so its pages stay the kernel's zero page. */
    private static final class ZeroBlock {
        static final long SIZE = 256 * 1024;
        static final MemorySegment ZEROS = java.lang.foreign.Arena.global().allocate(SIZE, 4096);
    }

    /**
     * Writes {@code length} zero bytes at file offset {@code offset} (pwrite from a block of
     * zeros); returns how many were written (all, unless the kernel refused).
     */
    long writeZeros(long offset, long length) {
        long done = 0;
        while (done < length) {
            long k = Math.min(ZeroBlock.SIZE, length - done);
            long n = write(offset + done, ZeroBlock.ZEROS, 0, k);
            done += n;
            if (n < k) {
                break;
            }
        }
        return done;
    }

    /** pwritev(2), made on first use like {@link Calls}. */
    private static final class Vectored {
        static final MethodHandle PWRITEV = Calls.LINKER.downcallHandle(
                Calls.LINKER.defaultLookup().find("pwritev").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
        /** Three iovecs per thread (zeros, data, zeros), reused: nothing is allocated per call. */
        static final ThreadLocal<MemorySegment> IOVECS =
                ThreadLocal.withInitial(() -> java.lang.foreign.Arena.ofAuto().allocate(48, 8));
    }

    /**
     * Writes [offset, offset + span) in one pwritev(2): {@code lead} zero bytes, {@code length}
     * bytes of native memory {@code src} from {@code srcOffset}, and zeros up to {@code span}.
     * Returns the bytes written: {@code span}, or less if the kernel refused or wrote short
     * (then the caller writes the range through the mapping). Each run of zeros must be under
     * {@link ZeroBlock#SIZE} (a write's edges are under a block).
     */
    long writePadded(long offset, long span, long lead, MemorySegment src, long srcOffset, long length) {
        long trail = span - lead - length;
        Objects.checkFromIndexSize(srcOffset, length, src.byteSize());
        if (lead < 0 || trail < 0 || lead > ZeroBlock.SIZE || trail > ZeroBlock.SIZE
                || !src.isNative() || !src.scope().isAlive()) {
            return 0;
        }
        MemorySegment iov = Vectored.IOVECS.get();
        long zeros = ZeroBlock.ZEROS.address();
        iov.set(JAVA_LONG, 0, zeros);
        iov.set(JAVA_LONG, 8, lead);
        iov.set(JAVA_LONG, 16, src.address() + srcOffset);
        iov.set(JAVA_LONG, 24, length);
        iov.set(JAVA_LONG, 32, zeros);
        iov.set(JAVA_LONG, 40, trail);
        try {
            long n = (long) Vectored.PWRITEV.invokeExact(fd, iov.address(), 3, offset);
            return Math.max(n, 0);
        } catch (Throwable t) {
            if (t instanceof Error e) {
                throw e;
            }
            return 0;
        }
    }

    /** splice(2), made on first use like {@link Calls}: offsets travel as raw addresses. */
    private static final class Splice {
        static final MethodHandle SPLICE = Calls.LINKER.downcallHandle(
                Calls.LINKER.defaultLookup().find("splice").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
        /** SPLICE_F_NONBLOCK: a full pipe returns what was moved instead of waiting for a reader. */
        static final int NONBLOCK = 2;
        /** The file offset splice reads from and advances, one per thread: nothing allocated per call. */
        static final ThreadLocal<MemorySegment> OFFSET =
                ThreadLocal.withInitial(() -> java.lang.foreign.Arena.ofAuto().allocate(8, 8));
    }

    /**
     * splice(2) of {@code length} bytes at file offset {@code offset} into pipe {@code pipeFd},
     * without SPLICE_F_MOVE (pages of the image must never be given away): the pipe takes
     * references to the file's pages. Returns the bytes moved: fewer when the pipe filled up or
     * a call failed (errno is not captured: the caller copies instead).
     */
    long spliceToPipe(long offset, int pipeFd, long length) {
        MemorySegment off = Splice.OFFSET.get();
        long done = 0;
        try {
            while (done < length) {
                off.set(JAVA_LONG, 0, offset + done);
                long n = (long) Splice.SPLICE.invokeExact(fd, off.address(), pipeFd, 0L, length - done, Splice.NONBLOCK);
                if (n <= 0) {
                    break;
                }
                done += n;
            }
        } catch (Throwable t) {
            if (t instanceof Error e) {
                throw e;
            }
        }
        return done;
    }

    /** pread or pwrite ({@code call}) until done or refused; returns the bytes moved. */
    private long transfer(MemorySegment call, long offset, MemorySegment memory, long memoryOffset, long length) {
        Objects.checkFromIndexSize(memoryOffset, length, memory.byteSize());
        if (!memory.isNative() || !memory.scope().isAlive()) {
            throw new IllegalArgumentException("pread/pwrite need live native memory");
        }
        long address = memory.address() + memoryOffset;
        long done = 0;
        try {
            while (done < length) {
                long n = (long) Calls.IO.invokeExact(call, fd, address + done, length - done, offset + done);
                if (n <= 0) {
                    break;
                }
                done += n;
            }
        } catch (Throwable t) {
            if (t instanceof Error e) {
                throw e;
            }
        }
        return done;
    }
}
