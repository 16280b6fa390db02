package io.daxfs.fuse.kernel;

import static io.daxfs.fuse.kernel.UringAbi.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.daxfs.fuse.mount.MountSession;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * One queue of FUSE over io_uring: the kernel keeps one per CPU and puts a request on the queue
 * of the CPU its caller runs on; this serves one of them, with its own io_uring, its own
 * thread (pinned to that CPU) and {@code depth} ring entries. docs/uring-frontend.md.
 *
 * <p>A ring entry is two buffers the kernel is told about once (FUSE_IO_URING_CMD_REGISTER):
 * a header (struct fuse_uring_req_header: the request's struct fuse_in_header, its first
 * argument, and the payload size) and a payload of max_write bytes (the other arguments: a
 * name, WRITE data). When a request arrives on the entry its CQE completes; daxfs serves it and
 * answers with FUSE_IO_URING_CMD_COMMIT_AND_FETCH, which hands the reply (struct
 * fuse_out_header in the header, the body in the payload) to the kernel and makes the entry
 * available for the next request in one system call.
 *
 * <p>The request handlers ({@link KernelFileSystem#handle}) see the same {@link Request} and
 * {@link Reply} as on /dev/fuse, laid out as read(2) of /dev/fuse would: the fuse_in_header and
 * the first argument are copied (at most 168 bytes) to just before the payload, so header,
 * arguments and WRITE data are contiguous and the data is never copied. A request without
 * payload gets its reply body written straight into the payload (READ data is copied from
 * device memory into it once, as into the reply buffer of /dev/fuse); a request with a payload
 * (a name, WRITE data) is answered through the queue's own reply buffer, and the body (at most
 * a few KiB: an entry, a write count, an attribute value) is copied into the payload when the
 * handler has finished reading its arguments. Nothing is allocated on the Java heap per request.
 *
 * <p>Memory: each entry is one anonymous mapping (a page for the header and the room before the
 * payload, then the payload), committed as it is touched.
 *
 * <p>Concurrency: everything here belongs to the queue's thread ({@link #run}) once it started,
 * except {@link #wake} (any thread) and {@link #close} (after the thread has ended).
 */
final class RingQueue implements AutoCloseable, Reply.Destination {
    private static final Logger LOG = LoggerFactory.getLogger(RingQueue.class);
    /** user_data of the poll of {@link #wakeFd}. */
    private static final long WAKE = -1L;
    private static final int PAGE = 4096;
    private static final int IN_HEADER = FuseAbi.IN_HEADER_SIZE;
    private static final int OUT_HEADER = FuseAbi.OUT_HEADER_SIZE;

    final int qid;
    private final int depth;
    private final long maxPayload;
    private final Arena arena = Arena.ofShared();
    private final IoUring ring;
    private final int wakeFd;
    private final Entry[] entries;
    /** The thread's buffers: a request without payload, and replies to requests with one. */
    private final MemorySegment own;
    private final MemorySegment smallRequestBuffer;
    private final Request smallRequest;
    private Reply copyingReply;
    private FuseChannel channel;
    private boolean fixedFile;
    private int devFd = -1;
    /** The entry whose request the thread is serving (for {@link #copyingReply}). */
    private Entry current;
    private volatile boolean woken;
    /** Requests served by this queue: written by its thread, read after it ended. */
    private long served;
    /** Result of the registration: 0 submitted, -errno refused; written by the thread. */
    private volatile int registration = 1;

    /**
     * Sets up the queue's io_uring and buffers (nothing is submitted yet).
     *
     * @param maxPayload the payload size of each entry: at least max_write, and the kernel's
     *                   max(8 KiB, max_write, max_pages × 4 KiB)
     * @throws LinuxCalls.NativeCallException if io_uring_setup, mmap or eventfd fail
     */
    RingQueue(int qid, int depth, long maxPayload) {
        this.qid = qid;
        this.depth = depth;
        this.maxPayload = maxPayload;
        IoUring r = null;
        int efd = -1;
        MemorySegment mine = null;
        Entry[] made = new Entry[depth];
        try {
            r = IoUring.create(Integer.highestOneBit(depth) * 2, arena);
            long e = LinuxCalls.checked(LinuxCalls.SYS_EVENTFD2, 0, LinuxCalls.EFD_CLOEXEC, 0, 0, 0, 0);
            if (e < 0) {
                throw new LinuxCalls.NativeCallException("eventfd", (int) -e);
            }
            efd = (int) e;
            mine = LinuxCalls.mapAnonymous(PAGE + OUT_HEADER + maxPayload);
            for (int i = 0; i < depth; i++) {
                made[i] = new Entry(i, LinuxCalls.mapAnonymous(PAGE + maxPayload));
            }
        } catch (RuntimeException | Error ex) {
            for (Entry en : made) {
                if (en != null) {
                    LinuxCalls.unmap(en.memory);
                }
            }
            if (mine != null) {
                LinuxCalls.unmap(mine);
            }
            LinuxCalls.close(efd);
            if (r != null) {
                r.close();
            }
            arena.close();
            throw ex;
        }
        this.ring = r;
        this.wakeFd = efd;
        this.entries = made;
        this.own = mine;
        this.smallRequestBuffer = mine.asSlice(0, IN_HEADER + OP_IN_SIZE);
        this.smallRequest = new Request(smallRequestBuffer);
    }

    /**
     * Connects the queue to the mounted /dev/fuse descriptor: ring commands name it (as a
     * registered file when the kernel allows, which spares a descriptor look-up per command),
     * and notifications from the handlers are written to it.
     */
    void attach(FuseChannel fuse) {
        this.channel = fuse;
        this.devFd = fuse.fd();
        this.fixedFile = ring.registerFile(devFd, arena) == 0;
        MemorySegment state = FuseChannel.newCallState(arena);
        MemorySegment notice = own.asSlice(IN_HEADER + OP_IN_SIZE, Reply.NOTICE_SIZE);
        this.copyingReply = new Reply(fuse, own.asSlice(PAGE, OUT_HEADER + maxPayload), state, notice, this);
        for (Entry e : entries) {
            e.direct = new Reply(fuse, e.memory.asSlice(PAGE - OUT_HEADER, OUT_HEADER + maxPayload), state, notice, e);
        }
    }

    /** One buffer pair registered with the kernel, and its views as {@link Request} and {@link Reply}. */
    private final class Entry implements Reply.Destination {
        final int index;
        final MemorySegment memory;
        final MemorySegment header;
        final MemorySegment payload;
        final MemorySegment iovec;
        /** The request as the handlers see it, by the size of its first argument (0 to 128 bytes). */
        final Request[] requests = new Request[OP_IN_SIZE + 1];
        /** The reply written in place: its body is the payload. */
        Reply direct;
        long commitId;
        boolean answered;
        int command;
        boolean alive = true;

        Entry(int index, MemorySegment memory) {
            this.index = index;
            this.memory = memory;
            this.header = memory.asSlice(0, HEADER_SIZE);
            this.payload = memory.asSlice(PAGE, maxPayload);
            for (int n = 0; n <= OP_IN_SIZE; n++) {
                requests[n] = new Request(memory.asSlice(PAGE - IN_HEADER - n, IN_HEADER + n + maxPayload));
            }
            // struct iovec[2]: the header, the payload (in the unused part of the first page)
            this.iovec = memory.asSlice(HEADER_SIZE, 32);
            iovec.set(JAVA_LONG, 0, header.address());
            iovec.set(JAVA_LONG, 8, HEADER_SIZE);
            iovec.set(JAVA_LONG, 16, payload.address());
            iovec.set(JAVA_LONG, 24, maxPayload);
        }

        /** The reply to this entry's request, its body already in the payload. */
        @Override
        public void deliver(MemorySegment buffer, int length) {
            answer(buffer, length, false);
        }

        void answer(MemorySegment buffer, int length, boolean copyBody) {
            int body = length - OUT_HEADER;
            MemorySegment.copy(buffer, 0, header, HEADER_IN_OUT, OUT_HEADER);
            if (copyBody && body > 0) {
                MemorySegment.copy(buffer, OUT_HEADER, payload, 0, body);
            }
            header.set(JAVA_INT, HEADER_ENT_PAYLOAD_SZ, body);
            header.set(JAVA_INT, HEADER_ENT_PADDING, 0);
            answered = true;
        }
    }

    /** The reply to the request of {@link #current}, built in the queue's reply buffer. */
    @Override
    public void deliver(MemorySegment buffer, int length) {
        current.answer(buffer, length, true);
    }

    /**
     * The queue's thread: pins itself to CPU {@link #qid}, waits for INIT, registers the
     * entries if INIT agreed on FUSE over io_uring, then serves requests until the kernel ends
     * the entries (unmount, abort: ENOTCONN) or {@link #wake} is called.
     */
    void run(KernelFileSystem fs, MountSession session) {
        int pinned = LinuxCalls.pinCurrentThread(qid);
        if (pinned != 0) {
            LOG.debug("queue {}: not pinned to CPU {}: {}", qid, qid, LinuxCalls.describe(-pinned));
        }
        if (!awaitInit(fs, session) || (fs.agreedFlags() & FUSE_OVER_IO_URING) == 0) {
            registration = -LinuxCalls.EOPNOTSUPP;
            return;
        }
        for (Entry e : entries) {
            register(e);
        }
        armWake();
        int live = entries.length;
        // Submit the registrations alone first: a refusal completes at once, a success only
        // with the first request.
        int r = ring.submitAndWait(0);
        boolean first = true;
        while (true) {
            if (r < 0 && r != -LinuxCalls.EINTR && r != -LinuxCalls.EAGAIN && r != -LinuxCalls.EBUSY) {
                if (registration == 1) {
                    registration = r;
                }
                session.workerFailed("io_uring_enter of FUSE queue " + qid + " failed: " + LinuxCalls.describe(-r), null);
                return;
            }
            int n = ring.completions();
            boolean wake = false;
            for (int i = 0; i < n; i++) {
                long user = ring.userData(i);
                int res = ring.result(i);
                if (user == WAKE) {
                    wake = true;
                    continue;
                }
                Entry e = entries[(int) user];
                if (res == 0) {
                    serve(fs, e);
                    commitAndFetch(e);
                } else if (res == -LinuxCalls.EINTR || res == -LinuxCalls.EAGAIN) {
                    resubmit(e);
                } else if (e.alive) {
                    e.alive = false;
                    live--;
                    ended(e, res);
                }
            }
            ring.consume(n);
            if (first) {
                first = false;
                if (registration == 1) {
                    registration = r < 0 ? r : 0; // not refused (ended() records a refusal)
                }
            }
            if (live == 0 || wake) {
                return;
            }
            r = ring.submitAndWait(1);
        }
    }

    private boolean awaitInit(KernelFileSystem fs, MountSession session) {
        try {
            while (!fs.awaitInit(Duration.ofMillis(200))) {
                if (woken || session.isStopping()) {
                    return false;
                }
            }
            return !woken;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** An entry the kernel gave back with an error: the end of the connection, or a refusal. */
    private void ended(Entry e, int res) {
        int errno = -res;
        if (errno == LinuxCalls.ENOTCONN || errno == LinuxCalls.ECONNABORTED || errno == LinuxCalls.ECANCELED
                || errno == LinuxCalls.ENODEV) {
            return; // unmounted or aborted
        }
        if (e.command == CMD_REGISTER) {
            registration = res;
            LOG.error("FUSE over io_uring: the kernel refused queue {}'s ring entry: {}; requests go through /dev/fuse",
                    qid, LinuxCalls.describe(errno));
        } else {
            LOG.error("FUSE over io_uring: queue {}: commit of request {} failed: {}", qid, e.commitId,
                    LinuxCalls.describe(errno));
        }
    }

    /**
     * Serves the request the kernel put in entry {@code e}: lays it out as /dev/fuse would, has
     * the handlers serve it, and leaves the reply in the entry.
     */
    private void serve(KernelFileSystem fs, Entry e) {
        MemorySegment h = e.header;
        e.commitId = h.get(JAVA_LONG, HEADER_ENT_COMMIT_ID);
        e.answered = false;
        int payloadSize = h.get(JAVA_INT, HEADER_ENT_PAYLOAD_SZ);
        int length = h.get(JAVA_INT, HEADER_IN_OUT + FuseAbi.IN_LEN);
        int argSize = length - IN_HEADER - payloadSize;
        served++;
        if (argSize < 0 || argSize > OP_IN_SIZE || payloadSize < 0 || payloadSize > maxPayload) {
            LOG.error("queue {}: malformed request {} (length {}, payload {}); answered EIO", qid, e.commitId, length,
                    payloadSize);
            answerEmpty(e, -FuseChannel.EIO);
            return;
        }
        Request request;
        Reply reply;
        if (payloadSize == 0) {
            MemorySegment.copy(h, HEADER_IN_OUT, smallRequestBuffer, 0, IN_HEADER);
            MemorySegment.copy(h, HEADER_OP_IN, smallRequestBuffer, IN_HEADER, argSize);
            request = smallRequest;
            reply = e.direct;
        } else {
            long at = PAGE - IN_HEADER - argSize;
            MemorySegment.copy(h, HEADER_IN_OUT, e.memory, at, IN_HEADER);
            MemorySegment.copy(h, HEADER_OP_IN, e.memory, at + IN_HEADER, argSize);
            request = e.requests[argSize];
            reply = copyingReply;
            current = e;
        }
        request.reset(length);
        fs.handle(request, reply);
        if (!e.answered) {
            // FORGET and INTERRUPT have no reply; the kernel sends them through /dev/fuse, but
            // an entry must be committed to be used again.
            answerEmpty(e, 0);
        }
    }

    /** A reply without body: {@code error} (0 or -errno). */
    private void answerEmpty(Entry e, int error) {
        MemorySegment h = e.header;
        h.set(JAVA_INT, HEADER_IN_OUT + FuseAbi.OUT_LEN, OUT_HEADER);
        h.set(JAVA_INT, HEADER_IN_OUT + FuseAbi.OUT_ERROR, error);
        h.set(JAVA_LONG, HEADER_IN_OUT + FuseAbi.OUT_UNIQUE, e.commitId);
        h.set(JAVA_INT, HEADER_ENT_PAYLOAD_SZ, 0);
        h.set(JAVA_INT, HEADER_ENT_PADDING, 0);
        e.answered = true;
    }

    private void register(Entry e) {
        MemorySegment sqe = command(e, CMD_REGISTER);
        sqe.set(JAVA_LONG, SQE_ADDR, e.iovec.address());
        sqe.set(JAVA_INT, SQE_LEN, 2);
    }

    private void commitAndFetch(Entry e) {
        MemorySegment sqe = command(e, CMD_COMMIT_AND_FETCH);
        sqe.set(JAVA_LONG, SQE_CMD + CMD_REQ_COMMIT_ID, e.commitId);
    }

    private void resubmit(Entry e) {
        if (e.command == CMD_REGISTER) {
            register(e);
        } else {
            commitAndFetch(e);
        }
    }

    /** An IORING_OP_URING_CMD SQE on /dev/fuse for entry {@code e}. */
    private MemorySegment command(Entry e, int command) {
        MemorySegment sqe = ring.nextSqe();
        sqe.set(JAVA_BYTE, SQE_OPCODE, (byte) OP_URING_CMD);
        sqe.set(JAVA_BYTE, SQE_FLAGS, fixedFile ? (byte) SQE_FIXED_FILE : 0);
        sqe.set(JAVA_INT, SQE_FD, fixedFile ? 0 : devFd);
        sqe.set(JAVA_INT, SQE_CMD_OP, command);
        sqe.set(JAVA_LONG, SQE_USER_DATA, e.index);
        sqe.set(JAVA_LONG, SQE_CMD + CMD_REQ_FLAGS, 0L);
        sqe.set(JAVA_SHORT, SQE_CMD + CMD_REQ_QID, (short) qid);
        e.command = command;
        return sqe;
    }

    /** A poll of {@link #wakeFd}: its completion makes the thread return. */
    private void armWake() {
        MemorySegment sqe = ring.nextSqe();
        sqe.set(JAVA_BYTE, SQE_OPCODE, (byte) OP_POLL_ADD);
        sqe.set(JAVA_INT, SQE_FD, wakeFd);
        sqe.set(JAVA_INT, SQE_OP_FLAGS, POLLIN);
        sqe.set(JAVA_LONG, SQE_USER_DATA, WAKE);
    }

    /**
     * Makes the queue's thread return soon, from any thread: when the /dev/fuse side has seen
     * the connection end, so that a queue never waits for completions that cannot come.
     */
    void wake() {
        woken = true;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            LinuxCalls.checked(LinuxCalls.SYS_WRITE, wakeFd, one.address(), 8, 0, 0, 0);
        }
    }

    /** Requests this queue served (once its thread has ended). */
    long served() {
        return served;
    }

    /** 0 once the entries were submitted for registration, -errno if refused, 1 before. */
    int registration() {
        return registration;
    }

    int depth() {
        return depth;
    }

    /** Closes the io_uring (the kernel cancels what is left) and unmaps the buffers; after the thread ended. */
    @Override
    public void close() {
        ring.close();
        LinuxCalls.close(wakeFd);
        for (Entry e : entries) {
            LinuxCalls.unmap(e.memory);
        }
        LinuxCalls.unmap(own);
        arena.close();
    }
}
