package io.daxfs.fuse.kernel;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;

/**
 * The reply to the request a worker is serving: struct fuse_out_header followed by the body,
 * built in the worker's own reply buffer and written to /dev/fuse with one write(2). A worker
 * owns one instance and reuses it (no allocation per request).
 *
 * <p>Use: {@link #start(long)} for each request; then exactly one of {@link #error},
 * {@link #ok()} or {@link #send(int)} after filling the body through {@link #body()} and the
 * put methods (offsets relative to the start of the body).
 */
final class Reply {
    private final FuseChannel channel;
    private final MemorySegment buffer;
    private final MemorySegment callState;
    private final MemorySegment notice;
    private final Destination destination;
    private long unique;
    private boolean sent;
    /** The reply sent was an error (daxfs stat counts them). */
    private boolean failed;
    /** daxfs stat's counters of the worker answering through this reply ({@link RequestStats}); made at first use. */
    RequestStats.Stripe stripe;

    /**
     * @param buffer the reply buffer: header plus the largest body (max_write)
     * @param notice room for one notification ({@link #NOTICE_SIZE} bytes)
     */
    Reply(FuseChannel channel, MemorySegment buffer, MemorySegment callState, MemorySegment notice) {
        this(channel, buffer, callState, notice, null);
    }

    /**
     * A reply that goes to {@code destination} instead of a write(2) of /dev/fuse (the io_uring
     * front end's ring entry); notifications still go through {@code channel}.
     */
    Reply(FuseChannel channel, MemorySegment buffer, MemorySegment callState, MemorySegment notice,
          Destination destination) {
        this.channel = channel;
        this.buffer = buffer;
        this.callState = callState;
        this.notice = notice;
        this.destination = destination;
    }

    /** Where a reply goes when it does not go to /dev/fuse with write(2). */
    interface Destination {
        /** Takes the finished reply: the first {@code length} bytes of {@code buffer}, header first. */
        void deliver(MemorySegment buffer, int length);
    }

    /** struct fuse_out_header plus struct fuse_notify_inval_inode_out (ino, off, len). */
    static final int NOTICE_SIZE = FuseAbi.OUT_HEADER_SIZE + 24;
    private static final int NOTIFY_INVAL_INODE = 2;

    /**
     * Tells the kernel that the attributes it caches for {@code ino} are stale
     * (FUSE_NOTIFY_INVAL_INODE with a negative offset: no page is touched, so it is safe while a
     * request on that inode is in flight). For changes the kernel cannot foresee, such as the
     * set-user-ID bit a WRITE drops. Best effort: ENOENT means the kernel has no such inode
     * cached, which is just as good.
     */
    void invalidateAttributes(long ino) {
        notice.set(JAVA_INT_UNALIGNED, FuseAbi.OUT_LEN, NOTICE_SIZE);
        notice.set(JAVA_INT_UNALIGNED, FuseAbi.OUT_ERROR, NOTIFY_INVAL_INODE);
        notice.set(JAVA_LONG_UNALIGNED, FuseAbi.OUT_UNIQUE, 0L);
        notice.set(JAVA_LONG_UNALIGNED, FuseAbi.OUT_HEADER_SIZE, ino);
        notice.set(JAVA_LONG_UNALIGNED, FuseAbi.OUT_HEADER_SIZE + 8, -1L);
        notice.set(JAVA_LONG_UNALIGNED, FuseAbi.OUT_HEADER_SIZE + 16, 0L);
        channel.write(callState, notice, NOTICE_SIZE);
    }

    /** Large READs of this worker go by splice ({@link SplicedRead}); null: all are copied. */
    private SplicedRead splicedRead;

    void useSplicedReads(SplicedRead s) {
        this.splicedRead = s;
    }

    /** How this worker may splice a READ's reply, or null (the io_uring front end; turned off). */
    SplicedRead splicedRead() {
        return splicedRead;
    }

    long unique() {
        return unique;
    }

    /** The reply went to /dev/fuse through {@link SplicedRead}. */
    void spliced() {
        if (sent) {
            throw new IllegalStateException("request " + unique + " answered twice");
        }
        sent = true;
        failed = false;
    }

    /** Begins the reply to the request with this unique id. */
    void start(long unique) {
        this.unique = unique;
        this.sent = false;
        this.failed = false;
    }

    boolean sent() {
        return sent;
    }

    /** True if the reply sent was an error. */
    boolean failed() {
        return failed;
    }

    /** Room for the body: the buffer's size minus the header. */
    long capacity() {
        return buffer.byteSize() - FuseAbi.OUT_HEADER_SIZE;
    }

    /** The whole reply buffer; the body starts at {@link #bodyOffset()}. */
    MemorySegment body() {
        return buffer;
    }

    static long bodyOffset() {
        return FuseAbi.OUT_HEADER_SIZE;
    }

    void putInt(long offset, int value) {
        buffer.set(JAVA_INT_UNALIGNED, FuseAbi.OUT_HEADER_SIZE + offset, value);
    }

    void putLong(long offset, long value) {
        buffer.set(JAVA_LONG_UNALIGNED, FuseAbi.OUT_HEADER_SIZE + offset, value);
    }

    void putShort(long offset, short value) {
        buffer.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, FuseAbi.OUT_HEADER_SIZE + offset, value);
    }

    /** Zeroes {@code length} body bytes from {@code offset} (reserved and padding fields). */
    void zero(long offset, long length) {
        buffer.asSlice(FuseAbi.OUT_HEADER_SIZE + offset, length).fill((byte) 0);
    }

    void putBytes(long offset, byte[] bytes) {
        MemorySegment.copy(bytes, 0, buffer, java.lang.foreign.ValueLayout.JAVA_BYTE,
                FuseAbi.OUT_HEADER_SIZE + offset, bytes.length);
    }

    /**
     * Sends the header and {@code bodyLength} bytes of body. Returns false if the kernel no longer
     * wanted it (the request was interrupted): whatever the reply handed over did not arrive.
     */
    boolean send(int bodyLength) {
        return transmit(0, bodyLength);
    }

    /**
     * Sends a successful FUSE_IOCTL reply: struct fuse_ioctl_out (result 0, no retry, no
     * iovecs) followed by {@code dataLength} bytes the caller put at {@link FuseAbi#IOCTL_OUT_SIZE}.
     */
    boolean ioctlDone(int dataLength) {
        putInt(FuseAbi.IOCTL_OUT_RESULT, 0);
        putInt(FuseAbi.IOCTL_OUT_FLAGS, 0);
        putInt(8, 0); // in_iovs
        putInt(12, 0); // out_iovs
        return send(FuseAbi.IOCTL_OUT_SIZE + dataLength);
    }

    /** Sends an empty success reply. */
    void ok() {
        transmit(0, 0);
    }

    /** Sends an error reply; {@code errno} is positive (ENOENT = 2). */
    void error(int errno) {
        transmit(-errno, 0);
    }

    private boolean transmit(int error, int bodyLength) {
        if (sent) {
            throw new IllegalStateException("request " + unique + " answered twice");
        }
        sent = true;
        failed = error != 0;
        int total = FuseAbi.OUT_HEADER_SIZE + bodyLength;
        buffer.set(JAVA_INT_UNALIGNED, FuseAbi.OUT_LEN, total);
        buffer.set(JAVA_INT_UNALIGNED, FuseAbi.OUT_ERROR, error);
        buffer.set(JAVA_LONG_UNALIGNED, FuseAbi.OUT_UNIQUE, unique);
        if (destination != null) {
            destination.deliver(buffer, total);
            return true;
        }
        long n = channel.write(callState, buffer, total);
        // ENOENT: the request was interrupted and the kernel gave up on it; nothing to do.
        if (n < 0 && n != -FuseChannel.ENOENT) {
            throw new ReplyFailedException(unique, (int) -n);
        }
        return n >= 0;
    }

    /** The kernel refused a reply: a malformed reply is a bug in daxfs. */
    static final class ReplyFailedException extends RuntimeException {
        ReplyFailedException(long unique, int errno) {
            super("write of the reply to request " + unique + " failed with errno " + errno);
        }
    }
}
