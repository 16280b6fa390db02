package io.daxfs.fuse.kernel;

import static io.daxfs.fuse.kernel.UringAbi.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance, driven directly through io_uring_setup, io_uring_enter and
 * io_uring_register ({@link LinuxCalls}): the submission and completion rings and the SQE array
 * mapped into this process, SQEs of 128 bytes (IORING_SETUP_SQE128, which FUSE's ring commands
 * need for their 80 bytes of command data). What liburing does, for the few operations the
 * FUSE ring uses, without a native library.
 *
 * <p>Memory ordering, as the kernel expects it: the SQ tail is published with a release store
 * after the SQEs it covers are written, the CQ tail is read with an acquire load before the CQEs
 * it covers, and the CQ head is published with a release store once they are consumed. The SQ
 * array maps slot i to SQE i once, at set-up.
 *
 * <p>Confinement: after {@link #create} only one thread uses an instance (the queue's thread:
 * the kernel runs a FUSE ring entry's task work in the submitter's context, and cancels a
 * thread's io_uring requests when it exits). Nothing here allocates on the Java heap after
 * {@link #create}.
 */
final class IoUring implements AutoCloseable {
    private static final VarHandle INT = JAVA_INT.varHandle();

    final int fd;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    /** One slice per SQE, made once: taking an SQE must not allocate. */
    private final MemorySegment[] sqeSlots;
    private final long sqHead;
    private final long sqTail;
    private final int sqMask;
    private final long cqHead;
    private final long cqTail;
    private final int cqMask;
    private final long cqes;
    private final MemorySegment callState;
    /** Our copies of the tails and head we own. */
    private int sqLocalTail;
    private int cqLocalHead;
    private boolean closed;

    private IoUring(int fd, MemorySegment sqRing, MemorySegment cqRing, MemorySegment sqes, MemorySegment params,
                    MemorySegment callState) {
        this.fd = fd;
        this.sqRing = sqRing;
        this.cqRing = cqRing;
        this.sqes = sqes;
        this.callState = callState;
        int sqOff = PARAMS_SQ_OFF;
        int cqOff = PARAMS_CQ_OFF;
        this.sqHead = params.get(JAVA_INT, sqOff + SQ_OFF_HEAD);
        this.sqTail = params.get(JAVA_INT, sqOff + SQ_OFF_TAIL);
        this.sqMask = sqRing.get(JAVA_INT, params.get(JAVA_INT, sqOff + SQ_OFF_RING_MASK));
        this.cqHead = params.get(JAVA_INT, cqOff + CQ_OFF_HEAD);
        this.cqTail = params.get(JAVA_INT, cqOff + CQ_OFF_TAIL);
        this.cqMask = cqRing.get(JAVA_INT, params.get(JAVA_INT, cqOff + CQ_OFF_RING_MASK));
        this.cqes = params.get(JAVA_INT, cqOff + CQ_OFF_CQES);
        int sqEntries = params.get(JAVA_INT, PARAMS_SQ_ENTRIES);
        long array = params.get(JAVA_INT, sqOff + SQ_OFF_ARRAY);
        this.sqeSlots = new MemorySegment[sqEntries];
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(JAVA_INT, array + 4L * i, i);
            sqeSlots[i] = sqes.asSlice((long) i * SQE_SIZE, SQE_SIZE);
        }
        this.sqLocalTail = (int) INT.getAcquire(sqRing, sqTail);
        this.cqLocalHead = (int) INT.getAcquire(cqRing, cqHead);
    }

    /**
     * io_uring_setup with {@code entries} submission entries, twice as many completion entries,
     * 128-byte SQEs and {@link UringAbi#SETUP_SUBMIT_ALL}; maps the rings.
     *
     * @param arena holds the call state of this ring's thread (lives as long as the ring)
     * @throws LinuxCalls.NativeCallException if the kernel refuses (io_uring_disabled: EPERM,
     *                                        no io_uring: ENOSYS, out of memory)
     */
    static IoUring create(int entries, Arena arena) {
        MemorySegment params = arena.allocate(PARAMS_SIZE, 8);
        params.set(JAVA_INT, PARAMS_FLAGS, SETUP_SQE128 | SETUP_SUBMIT_ALL | SETUP_CQSIZE);
        params.set(JAVA_INT, PARAMS_CQ_ENTRIES, entries * 2);
        MemorySegment state = LinuxCalls.newCallState(arena);
        long fd = LinuxCalls.checked(state, SYS_IO_URING_SETUP, entries, params.address(), 0, 0, 0, 0);
        if (fd < 0) {
            throw new LinuxCalls.NativeCallException("io_uring_setup", (int) -fd);
        }
        MemorySegment sq = null;
        MemorySegment cq = null;
        MemorySegment sqeArray = null;
        try {
            int sqEntries = params.get(JAVA_INT, PARAMS_SQ_ENTRIES);
            int cqEntries = params.get(JAVA_INT, PARAMS_CQ_ENTRIES);
            long sqSize = params.get(JAVA_INT, PARAMS_SQ_OFF + SQ_OFF_ARRAY) + 4L * sqEntries;
            long cqSize = params.get(JAVA_INT, PARAMS_CQ_OFF + CQ_OFF_CQES) + (long) CQE_SIZE * cqEntries;
            boolean single = (params.get(JAVA_INT, PARAMS_FEATURES) & FEAT_SINGLE_MMAP) != 0;
            if (single) {
                sqSize = cqSize = Math.max(sqSize, cqSize);
            }
            sq = mapRing(state, (int) fd, sqSize, OFF_SQ_RING);
            // With SINGLE_MMAP one mapping holds both rings; unmapped once (close()).
            cq = single ? sq : mapRing(state, (int) fd, cqSize, OFF_CQ_RING);
            sqeArray = mapRing(state, (int) fd, (long) SQE_SIZE * sqEntries, OFF_SQES);
            return new IoUring((int) fd, sq, cq, sqeArray, params, state);
        } catch (RuntimeException | Error e) {
            for (MemorySegment s : new MemorySegment[] {sqeArray, cq == sq ? null : cq, sq}) {
                if (s != null) {
                    LinuxCalls.unmap(s);
                }
            }
            LinuxCalls.close((int) fd);
            throw e;
        }
    }

    private static MemorySegment mapRing(MemorySegment state, int fd, long size, long offset) {
        long addr = LinuxCalls.checked(state, LinuxCalls.SYS_MMAP, 0, size,
                LinuxCalls.PROT_READ | LinuxCalls.PROT_WRITE, LinuxCalls.MAP_SHARED | LinuxCalls.MAP_POPULATE, fd,
                offset);
        if (addr < 0 && addr > -4096) {
            throw new LinuxCalls.NativeCallException("mmap of the io_uring at " + Long.toHexString(offset),
                    (int) -addr);
        }
        return MemorySegment.ofAddress(addr).reinterpret(size);
    }

    /** io_uring_register(IORING_REGISTER_FILES) of one descriptor, index 0; returns 0 or -errno. */
    int registerFile(int file, Arena arena) {
        MemorySegment fds = arena.allocate(JAVA_INT);
        fds.set(JAVA_INT, 0, file);
        long r = LinuxCalls.checked(callState, SYS_IO_URING_REGISTER, fd, REGISTER_FILES, fds.address(), 1, 0, 0);
        return (int) Math.min(0, r);
    }

    /** Submission entries (a power of two). */
    int sqEntries() {
        return sqeSlots.length;
    }

    /**
     * The next free SQE, zeroed; it is submitted by the next {@link #submitAndWait}. Throws if
     * every SQE is taken (a bug: the caller never has more in flight than there are entries).
     */
    MemorySegment nextSqe() {
        int head = (int) INT.getAcquire(sqRing, sqHead);
        if (sqLocalTail - head >= sqeSlots.length) {
            throw new IllegalStateException("io_uring submission queue full");
        }
        MemorySegment sqe = sqeSlots[sqLocalTail & sqMask];
        sqe.fill((byte) 0);
        sqLocalTail++;
        return sqe;
    }

    /**
     * Publishes the SQEs taken since the last call, submits them and waits until at least
     * {@code minComplete} completions are there. Returns what io_uring_enter returns (the SQEs
     * submitted), or -errno: EINTR (a signal; call again), EAGAIN or EBUSY (the kernel is short
     * of resources or completions must be reaped first).
     */
    int submitAndWait(int minComplete) {
        INT.setRelease(sqRing, sqTail, sqLocalTail);
        int toSubmit = sqLocalTail - (int) INT.getAcquire(sqRing, sqHead);
        int flags = minComplete > 0 ? ENTER_GETEVENTS : 0;
        long r = LinuxCalls.call(SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, 0, 0);
        if (r == -1) {
            // Nothing was submitted; the same call once more, learning errno if it fails again.
            r = LinuxCalls.checked(callState, SYS_IO_URING_ENTER, fd,
                    sqLocalTail - (int) INT.getAcquire(sqRing, sqHead), minComplete, flags, 0, 0);
        }
        return (int) r;
    }

    /** Completions ready to be read: CQEs from {@link #cqe}(0) on. */
    int completions() {
        return (int) INT.getAcquire(cqRing, cqTail) - cqLocalHead;
    }

    /** The {@code i}-th unread CQE's user_data. */
    long userData(int i) {
        return cqRing.get(JAVA_LONG, cqes + (long) ((cqLocalHead + i) & cqMask) * CQE_SIZE + CQE_USER_DATA);
    }

    /** The {@code i}-th unread CQE's result (negative: -errno). */
    int result(int i) {
        return cqRing.get(JAVA_INT, cqes + (long) ((cqLocalHead + i) & cqMask) * CQE_SIZE + CQE_RES);
    }

    /** Marks {@code n} CQEs read: the kernel may reuse their slots. */
    void consume(int n) {
        cqLocalHead += n;
        INT.setRelease(cqRing, cqHead, cqLocalHead);
    }

    /**
     * Unmaps the rings and closes the descriptor; the kernel then cancels what is still in
     * flight (FUSE ring entries end with ENOTCONN). Idempotent; only once no thread uses it.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LinuxCalls.unmap(sqes);
        if (cqRing.address() != sqRing.address()) {
            LinuxCalls.unmap(cqRing);
        }
        LinuxCalls.unmap(sqRing);
        LinuxCalls.close(fd);
    }
}
