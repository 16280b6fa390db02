package io.daxfs.fuse.kernel;

import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * One request as the kernel wrote it into a worker's buffer: struct fuse_in_header, then the
 * opcode's arguments. A worker owns one instance and reuses it for every request (no allocation
 * per request); every accessor reads the buffer directly, so a request is valid only until the
 * worker reads the next one.
 *
 * <p>Argument offsets are relative to the end of the header. Lengths come from the kernel and are
 * trusted only as far as the buffer reaches: a name without its terminating NUL is EINVAL.
 */
final class Request {
    private final MemorySegment buffer;
    private int length;

    Request(MemorySegment buffer) {
        this.buffer = buffer;
    }

    /** Sets the length of the request just read. */
    void reset(int length) {
        this.length = length;
    }

    int length() {
        return length;
    }

    int opcode() {
        return buffer.get(JAVA_INT_UNALIGNED, FuseAbi.IN_OPCODE);
    }

    long unique() {
        return buffer.get(JAVA_LONG_UNALIGNED, FuseAbi.IN_UNIQUE);
    }

    long nodeid() {
        return buffer.get(JAVA_LONG_UNALIGNED, FuseAbi.IN_NODEID);
    }

    int uid() {
        return buffer.get(JAVA_INT_UNALIGNED, FuseAbi.IN_UID);
    }

    int gid() {
        return buffer.get(JAVA_INT_UNALIGNED, FuseAbi.IN_GID);
    }

    int pid() {
        return buffer.get(JAVA_INT_UNALIGNED, FuseAbi.IN_PID);
    }

    /** Bytes of arguments after the header. */
    int argLength() {
        return length - FuseAbi.IN_HEADER_SIZE;
    }

    int argInt(int offset) {
        return buffer.get(JAVA_INT_UNALIGNED, FuseAbi.IN_HEADER_SIZE + offset);
    }

    long argLong(int offset) {
        return buffer.get(JAVA_LONG_UNALIGNED, FuseAbi.IN_HEADER_SIZE + offset);
    }

    /** The buffer itself, and the absolute offset of argument byte {@code offset} in it. */
    MemorySegment buffer() {
        return buffer;
    }

    static long absolute(int argOffset) {
        return FuseAbi.IN_HEADER_SIZE + (long) argOffset;
    }

    /** Offset just past the NUL that ends the string starting at argument offset {@code offset}. */
    int stringEnd(int offset) {
        long i = FuseAbi.IN_HEADER_SIZE + (long) offset;
        while (i < length) {
            if (buffer.get(JAVA_BYTE, i) == 0) {
                return (int) (i - FuseAbi.IN_HEADER_SIZE + 1);
            }
            i++;
        }
        throw new FsException(Errno.EINVAL, "unterminated name in request");
    }

    /** The NUL-terminated string at argument offset {@code offset} (a file name, UTF-8). */
    String string(int offset) {
        int end = stringEnd(offset);
        int n = end - 1 - offset;
        byte[] bytes = new byte[n];
        MemorySegment.copy(buffer, JAVA_BYTE, FuseAbi.IN_HEADER_SIZE + (long) offset, bytes, 0, n);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The raw bytes at argument offset {@code offset}, {@code n} of them. */
    byte[] bytes(int offset, int n) {
        if (FuseAbi.IN_HEADER_SIZE + (long) offset + n > length) {
            throw new FsException(Errno.EINVAL, "request shorter than its arguments");
        }
        byte[] out = new byte[n];
        MemorySegment.copy(buffer, JAVA_BYTE, FuseAbi.IN_HEADER_SIZE + (long) offset, out, 0, n);
        return out;
    }
}
