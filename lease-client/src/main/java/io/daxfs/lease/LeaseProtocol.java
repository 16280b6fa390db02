package io.daxfs.lease;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The daxfs lease protocol, byte by byte (docs/leases.md is the reference; this class and the
 * daemon's {@code LeaseOps} are its two ends, and the Python client in
 * {@code lease-client/python/daxfs_lease.py} a third).
 *
 * <p>Every command is one {@code ioctl(2)} on a descriptor opened through the mount, number
 * {@code _IOWR(0xDA, command, 4096)}: the kernel copies the caller's 4096-byte buffer to the
 * daemon (FUSE_IOCTL) and copies the daemon's reply, at most 4096 bytes, back into the same
 * buffer. Request and reply start with the same 16-byte header; all integers are little-endian.
 *
 * <pre>
 * header   0 u32 magic   0x46584144 ("DAXF")
 *          4 u16 version 1
 *          6 u16 command (the ioctl's number)
 *          8 u32 length  bytes of the message in use, header included
 *         12 u32 flags   reply: {@link #MORE} = call again from the cursor
 * </pre>
 * A command number the daemon does not know is ENOTTY, like any foreign ioctl; a wrong magic or
 * version is EINVAL. Commands (each body starts at byte 16):
 * <ul>
 * <li>{@link #DEVICE}: what to map - the device or image path the daemon opened, its kind,
 *     size, the offset granularity mmap accepts, its identity (the client checks it is the file
 *     it opened). Any file or directory of the mount.</li>
 * <li>{@link #LEASE}: take a read or write lease on a range of this regular file; the reply
 *     gives its number and its extents.</li>
 * <li>{@link #UNLEASE}, {@link #FLUSH}: release one lease of this open file (or all: number
 *     0); make a write-lease holder's stores durable and visible through the mount.</li>
 * <li>{@link #STATUS}: the leases of this open file and which are broken.</li>
 * <li>{@link #LIST}: every lease of the mount (on the mount's root directory): {@code daxfs stat}.</li>
 * <li>{@link #STATS}: live statistics of the mount (any file or directory; docs/stats.md):
 *     requests and latency by opcode, journal commits, busy space by reason, free space.</li>
 * <li>8 and up: reserved.</li>
 * </ul>
 */
public final class LeaseProtocol {
    private LeaseProtocol() {
    }

    /** ioctl type ('\xDA'): unused in Linux's ioctl-number registry. */
    public static final int IOC_TYPE = 0xDA;
    /** Size of every message buffer (the size encoded in each ioctl number). */
    public static final int MESSAGE_SIZE = 4096;
    public static final int MAGIC = 0x46584144;
    public static final int VERSION = 1;
    public static final int HEADER_SIZE = 16;

    public static final int DEVICE = 1;
    public static final int LEASE = 2;
    public static final int UNLEASE = 3;
    public static final int FLUSH = 4;
    public static final int STATUS = 5;
    public static final int LIST = 6;
    public static final int STATS = 7;
    /** Highest command number this version defines. */
    public static final int LAST_COMMAND = STATS;

    // header
    public static final int H_MAGIC = 0;
    public static final int H_VERSION = 4;
    public static final int H_COMMAND = 6;
    public static final int H_LENGTH = 8;
    public static final int H_FLAGS = 12;
    /** Reply flag: more records than fit; call again with the cursor after the last one. */
    public static final int MORE = 1;

    // DEVICE reply
    public static final int DEV_KIND = 16;
    public static final int DEV_BLOCK_SIZE = 20;
    public static final int DEV_MAP_ALIGN = 24;
    public static final int DEV_HUGE_ALIGN = 32;
    public static final int DEV_SIZE = 40;
    public static final int DEV_DEV_MAJOR = 48;
    public static final int DEV_DEV_MINOR = 52;
    public static final int DEV_INO = 56;
    public static final int DEV_RDEV_MAJOR = 64;
    public static final int DEV_RDEV_MINOR = 68;
    public static final int DEV_PATH_LENGTH = 72;
    public static final int DEV_PATH = 80;
    /** Device kinds. */
    public static final int KIND_FILE = 1;
    public static final int KIND_DEVDAX = 2;

    // LEASE request
    public static final int LQ_MODE = 16;
    public static final int LQ_FLAGS = 20;
    public static final int LQ_OFFSET = 24;
    public static final int LQ_LENGTH = 32;
    public static final int LQ_SIZE = 40;
    /** Lease modes. */
    public static final int MODE_READ = 1;
    public static final int MODE_WRITE = 2;
    // LEASE reply
    public static final int LR_ID = 16;
    public static final int LR_OFFSET = 24;
    public static final int LR_LENGTH = 32;
    public static final int LR_MODE = 40;
    public static final int LR_COUNT = 44;
    public static final int LR_FLAGS = 48;
    public static final int LR_PIECES = 56;
    public static final int PIECE_SIZE = 24;
    /** Most pieces one LEASE reply holds. */
    public static final int MAX_PIECES = (MESSAGE_SIZE - LR_PIECES) / PIECE_SIZE;
    /** LEASE reply flag: every piece's file offset and device offset are congruent modulo the huge alignment. */
    public static final int CONGRUENT = 1;
    /** LEASE reply flag: the lease ends early because more pieces than fit follow; lease the rest from its end. */
    public static final int PARTIAL = 2;

    // UNLEASE, FLUSH request; STATUS, LIST request
    public static final int Q_ID = 16;
    public static final int Q_AFTER = 16;
    public static final int Q_SIZE = 24;
    // UNLEASE, FLUSH reply
    public static final int R_DONE = 16;
    public static final int R_SIZE = 24;

    // STATUS reply
    public static final int ST_COUNT = 16;
    public static final int ST_BROKEN = 20;
    public static final int ST_RECORDS = 24;
    public static final int ST_RECORD_SIZE = 32;
    public static final int STR_ID = 0;
    public static final int STR_OFFSET = 8;
    public static final int STR_LENGTH = 16;
    public static final int STR_MODE = 24;
    public static final int STR_STATE = 28;
    /** STATUS / LIST record state bit. */
    public static final int STATE_BROKEN = 1;
    /** LIST record state bit. */
    public static final int STATE_WRITE = 2;

    // LIST reply
    public static final int LS_COUNT = 16;
    public static final int LS_TOTAL = 20;
    public static final int LS_HELD_BUSY = 24;
    public static final int LS_RECORDS = 32;
    public static final int LSR_ID = 0;
    public static final int LSR_INO = 8;
    public static final int LSR_OFFSET = 16;
    public static final int LSR_LENGTH = 24;
    public static final int LSR_AGE_NANOS = 32;
    public static final int LSR_BUSY_BYTES = 40;
    public static final int LSR_PID = 48;
    public static final int LSR_STATE = 52;
    public static final int LSR_RECORD_LENGTH = 56;
    public static final int LSR_PATH_LENGTH = 58;
    public static final int LSR_PATH = 64;

    // STATS request: the cursor at Q_AFTER (0 first; then the reply's SS_NEXT while MORE)
    // STATS reply
    public static final int SS_COUNT = 16;
    public static final int SS_RESERVED = 20;
    public static final int SS_NEXT = 24;
    public static final int SS_RECORDS = 32;
    // every STATS record: type, length (a multiple of 8, header included), key
    public static final int SR_TYPE = 0;
    public static final int SR_LENGTH = 2;
    public static final int SR_KEY = 4;
    /** Record types. */
    public static final int SR_SUMMARY = 1;
    public static final int SR_SPACE = 2;
    public static final int SR_BUSY = 3;
    public static final int SR_LATENCY = 4;
    // SUMMARY record (key 0)
    public static final int SU_UPTIME_NANOS = 8;
    public static final int SU_BYTES_READ = 16;
    public static final int SU_BYTES_WRITTEN = 24;
    public static final int SU_OPEN_FILES = 32;
    public static final int SU_RANGE_WAITS = 40;
    public static final int SU_RANGE_WAIT_NANOS = 48;
    public static final int SU_INVALIDATION_RETRIES = 56;
    public static final int SU_SIZE = 64;
    // SPACE record (key 0)
    public static final int SP_BLOCK_SIZE = 8;
    public static final int SP_TOTAL_BLOCKS = 16;
    public static final int SP_FREE_BLOCKS = 24;
    public static final int SP_FREE_EXTENTS = 32;
    public static final int SP_LARGEST_FREE = 40;
    public static final int SP_BUSY_BLOCKS = 48;
    public static final int SP_LEASE_HELD_BLOCKS = 56;
    public static final int SP_TOTAL_INODES = 64;
    public static final int SP_FREE_INODES = 72;
    public static final int SP_SIZE = 80;
    // BUSY record (key: the name's length in bytes)
    public static final int BU_EXTENTS = 8;
    public static final int BU_BYTES = 16;
    public static final int BU_REFERENCES = 24;
    public static final int BU_NAME = 32;
    // LATENCY record (key: a FUSE opcode, or LATENCY_JOURNAL_COMMIT)
    public static final int LA_COUNT = 8;
    public static final int LA_ERRORS = 16;
    public static final int LA_SAMPLES = 24;
    public static final int LA_MAX = 32;
    public static final int LA_MEAN = 40;
    public static final int LA_P50 = 48;
    public static final int LA_P90 = 56;
    public static final int LA_P99 = 64;
    public static final int LA_P999 = 72;
    public static final int LA_HISTOGRAM_LENGTH = 80;
    public static final int LA_HISTOGRAM = 88;
    /** LATENCY key of the journal's commits (FUSE opcodes are below it). */
    public static final int LATENCY_JOURNAL_COMMIT = 0x10000;

    /** Little-endian layouts of the message fields (byte-aligned access). */
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The ioctl number of {@code command}: _IOWR(0xDA, command, 4096). */
    public static int ioctlNumber(int command) {
        return (3 << 30) | (MESSAGE_SIZE << 16) | (IOC_TYPE << 8) | command;
    }

    /** The command of an ioctl number, or -1 if it is not one of this protocol's (type, direction, size). */
    public static int commandOf(int ioctlNumber) {
        return (ioctlNumber & ~0xFF) == (ioctlNumber(0) & ~0xFF) ? ioctlNumber & 0xFF : -1;
    }

    /** Writes a request header for {@code command} of {@code length} bytes into {@code m}. */
    public static void header(MemorySegment m, int command, int length) {
        m.set(U32, H_MAGIC, MAGIC);
        m.set(U16, H_VERSION, (short) VERSION);
        m.set(U16, H_COMMAND, (short) command);
        m.set(U32, H_LENGTH, length);
        m.set(U32, H_FLAGS, 0);
    }

    /** Length of a record of {@code bodyEnd} bytes, padded to 8. */
    public static int padded(int bodyEnd) {
        return (bodyEnd + 7) & ~7;
    }

    /** Record length of a LIST record with a path of {@code pathLength} bytes (padded to 8). */
    public static int listRecordLength(int pathLength) {
        return (LSR_PATH + pathLength + 7) & ~7;
    }
}
