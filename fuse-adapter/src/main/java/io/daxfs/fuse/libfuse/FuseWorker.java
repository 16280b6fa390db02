package io.daxfs.fuse.libfuse;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.struct.FuseBuf;

import java.lang.ref.Reference;

/**
 * One worker of the pool: receives a request from /dev/fuse and processes it, on a JVM thread,
 * until the session exits. This is libfuse's fuse_session_loop_mt worker loop, minus the thread
 * creation: because the thread is a Java thread, jffi never attaches/detaches it per callback.
 *
 * <p>Invariant: the receive buffer, the {@code struct fuse_buf} and the channel out-parameter are
 * owned by this worker and used only by its thread. They are fields, and {@link #run} ends with a
 * reachability fence on {@code this}: jnr-ffi frees direct memory when its Pointer is collected, and
 * libfuse writes into them from native code that the JIT cannot see.
 *
 * <p>Lock order: takes no lock; the callbacks libfuse dispatches run on this thread holding
 * nothing of the session ({@link io.daxfs.fuse.mount.MountSession}).
 */
final class FuseWorker implements Runnable {
    private static final int EINTR = ErrorCodes.EINTR();
    /** sizeof(struct fuse_buf), from jnr-fuse's layout (a view without memory allocates nothing). */
    static final int FUSE_BUF_SIZE = Struct.size(FuseBuf.of(null));

    private final LibFuseSession lib;
    private final Pointer session;
    private final Pointer channel;
    private final Listener listener;

    private final long bufferSize;
    private final Pointer buffer;     // request data, fuse_chan_bufsize() bytes
    private final Pointer fuseBufMem; // struct fuse_buf handed to receive/process
    private final FuseBuf fuseBuf;    // jnr-fuse's view of it: field offsets come from its layout
    private final Pointer channelOut; // struct fuse_chan *, updated by receive_buf

    /** Told when the worker leaves its loop because of an error rather than a session exit. */
    interface Listener {
        void workerFailed(String reason, Throwable cause);
    }

    FuseWorker(LibFuseSession lib, Pointer session, Pointer channel, long bufferSize, Listener listener) {
        Runtime runtime = Runtime.getSystemRuntime();
        this.lib = lib;
        this.session = session;
        this.channel = channel;
        this.listener = listener;
        this.bufferSize = bufferSize;
        this.buffer = Memory.allocateDirect(runtime, bufferSize);
        this.fuseBufMem = Memory.allocateDirect(runtime, FUSE_BUF_SIZE, true);
        this.fuseBuf = FuseBuf.of(fuseBufMem);
        this.channelOut = Memory.allocateDirect(runtime, runtime.addressSize(), true);
    }

    @Override
    public void run() {
        try {
            while (lib.fuse_session_exited(session) == 0) {
                resetRequest();
                int res = lib.fuse_session_receive_buf(session, fuseBufMem, channelOut);
                if (res == -EINTR) {
                    continue;
                }
                if (res <= 0) {
                    // 0: the session exited or the kernel dropped the connection (ENODEV).
                    if (res < 0) {
                        listener.workerFailed("fuse_session_receive_buf returned errno " + -res, null);
                    }
                    break;
                }
                lib.fuse_session_process_buf(session, fuseBufMem, channelOut.getPointer(0));
            }
        } catch (Throwable t) {
            listener.workerFailed("FUSE worker died", t);
            throw t;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * receive_buf may rewrite the struct (size, and with splice also flags/fd/mem), so every
     * request starts from a fresh { .mem = buffer, .size = bufferSize }, as libfuse's loops do.
     */
    private void resetRequest() {
        fuseBufMem.setMemory(0, FUSE_BUF_SIZE, (byte) 0);
        fuseBuf.size.set(bufferSize);
        fuseBuf.mem.set(buffer);
        channelOut.putPointer(0, channel);
    }
}
