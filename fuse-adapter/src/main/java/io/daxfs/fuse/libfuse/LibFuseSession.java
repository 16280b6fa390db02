package io.daxfs.fuse.libfuse;

import io.daxfs.fuse.mount.FuseMountException;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.types.size_t;

/**
 * The part of libfuse 2.9's C API needed to drive the session loop from Java threads
 * (declarations in /usr/include/fuse/fuse.h and fuse_lowlevel.h).
 *
 * <p>All handles are opaque {@link Pointer}s. The hot-path functions are {@link IgnoreError}:
 * they report failures through their return value, so saving errno after each call would be
 * wasted work on every FUSE request.
 */
public interface LibFuseSession {

    /**
     * Parses the command line (-f, -d, -s, -o ...), mounts, and creates the fuse handle.
     * Returns NULL on any failure (libfuse prints the reason to stderr).
     * {@code mountpoint} receives a malloc'ed, realpath()-resolved copy that
     * {@link #fuse_teardown} frees.
     */
    Pointer fuse_setup(int argc, Pointer argv, Pointer op, @size_t long opSize,
                       PointerByReference mountpoint, IntByReference multithreaded, Pointer userData);

    /** Unmounts (if still mounted), calls the destroy operation, frees the handle and mountpoint. */
    void fuse_teardown(Pointer fuse, Pointer mountpoint);

    Pointer fuse_get_session(Pointer fuse);

    /** With {@code ch == NULL} returns the session's first (and, for fuse_setup, only) channel. */
    Pointer fuse_session_next_chan(Pointer session, Pointer ch);

    /** Size a receive buffer must have to hold any request (page size + 128 KiB + header). */
    @size_t
    long fuse_chan_bufsize(Pointer ch);

    /**
     * Blocks in read(/dev/fuse) for one request. Returns the request size, 0 when the session
     * has exited (or the connection is gone), -EINTR to retry, another -errno on failure.
     */
    @IgnoreError
    int fuse_session_receive_buf(Pointer session, Pointer fuseBuf, Pointer chOut);

    /** Dispatches one request; the file system callbacks run on the calling thread. */
    @IgnoreError
    void fuse_session_process_buf(Pointer session, Pointer fuseBuf, Pointer ch);

    @IgnoreError
    int fuse_session_exited(Pointer session);

    /** Sets the exit flag only: threads blocked in receive_buf stay blocked until woken. */
    void fuse_session_exit(Pointer session);

    /**
     * Loads libfuse 2. The versioned soname comes first because this interface is written against
     * the 2.9 ABI (libfuse.so exists only with libfuse-dev). dlopen returns the same handle that
     * jnr-fuse uses, so fuse_get_context() in jnr-fuse sees the contexts our threads create.
     */
    static LibFuseSession load() {
        try {
            return LibraryLoader.create(LibFuseSession.class).failImmediately().load("libfuse.so.2");
        } catch (UnsatisfiedLinkError | RuntimeException first) {
            try {
                return LibraryLoader.create(LibFuseSession.class).failImmediately().load("fuse");
            } catch (UnsatisfiedLinkError | RuntimeException second) {
                second.addSuppressed(first);
                throw new FuseMountException("cannot load libfuse 2 (apt-get install libfuse2)", second);
            }
        }
    }
}
