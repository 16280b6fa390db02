package io.daxfs.fuse.kernel;

/**
 * The two interfaces the io_uring front end speaks, as offsets and constants: io_uring itself
 * ({@code <linux/io_uring.h>}: struct io_uring_params, the 128-byte SQE of a ring set up with
 * IORING_SETUP_SQE128, the CQE, the mmap offsets and the system call numbers) and FUSE over
 * io_uring ({@code <linux/fuse.h>} 7.42+: struct fuse_uring_req_header, struct
 * fuse_uring_cmd_req, the two ring commands). All little-endian, naturally aligned.
 *
 * <p>The io_uring layouts are checked against the installed kernel header by
 * {@code UringAbiTest} (gcc, as {@code FuseAbiTest} does for FUSE). The FUSE-over-io_uring
 * structs are not in Debian bookworm's headers (Linux 6.1); they are written down here from
 * include/uapi/linux/fuse.h of Linux 6.14+ and checked by every mount that runs over the ring
 * (a wrong offset and the kernel refuses the registration or the reply).
 */
final class UringAbi {
    private UringAbi() {
    }

    // ---------------------------------------------------------------- system calls
    /** Same number on x86_64 and on the generic table (aarch64). */
    static final long SYS_IO_URING_SETUP = 425;
    static final long SYS_IO_URING_ENTER = 426;
    static final long SYS_IO_URING_REGISTER = 427;

    // ---------------------------------------------------------------- io_uring_setup
    static final int SETUP_CQSIZE = 1 << 3;
    static final int SETUP_SUBMIT_ALL = 1 << 7;
    static final int SETUP_SQE128 = 1 << 10;

    /** struct io_uring_params (120 bytes). */
    static final int PARAMS_SIZE = 120;
    static final int PARAMS_SQ_ENTRIES = 0;
    static final int PARAMS_CQ_ENTRIES = 4;
    static final int PARAMS_FLAGS = 8;
    static final int PARAMS_FEATURES = 20;
    /** struct io_sqring_offsets sq_off, at 40. */
    static final int PARAMS_SQ_OFF = 40;
    /** struct io_cqring_offsets cq_off, at 80. */
    static final int PARAMS_CQ_OFF = 80;
    // offsets inside io_sqring_offsets
    static final int SQ_OFF_HEAD = 0;
    static final int SQ_OFF_TAIL = 4;
    static final int SQ_OFF_RING_MASK = 8;
    static final int SQ_OFF_RING_ENTRIES = 12;
    static final int SQ_OFF_FLAGS = 16;
    static final int SQ_OFF_ARRAY = 24;
    // offsets inside io_cqring_offsets
    static final int CQ_OFF_HEAD = 0;
    static final int CQ_OFF_TAIL = 4;
    static final int CQ_OFF_RING_MASK = 8;
    static final int CQ_OFF_RING_ENTRIES = 12;
    static final int CQ_OFF_OVERFLOW = 16;
    static final int CQ_OFF_CQES = 20;

    static final int FEAT_SINGLE_MMAP = 1;

    static final long OFF_SQ_RING = 0L;
    static final long OFF_CQ_RING = 0x8000000L;
    static final long OFF_SQES = 0x10000000L;

    // ---------------------------------------------------------------- io_uring_enter, io_uring_register
    static final int ENTER_GETEVENTS = 1;
    static final int REGISTER_FILES = 2;

    // ---------------------------------------------------------------- struct io_uring_sqe (SQE128: 128 bytes)
    static final int SQE_SIZE = 128;
    static final int SQE_OPCODE = 0;
    static final int SQE_FLAGS = 1;
    static final int SQE_FD = 4;
    /** cmd_op of IORING_OP_URING_CMD (a union with off). */
    static final int SQE_CMD_OP = 8;
    static final int SQE_ADDR = 16;
    static final int SQE_LEN = 24;
    /** poll32_events of IORING_OP_POLL_ADD, uring_cmd_flags of IORING_OP_URING_CMD. */
    static final int SQE_OP_FLAGS = 28;
    static final int SQE_USER_DATA = 32;
    /** The 80 bytes of command data of a 128-byte SQE. */
    static final int SQE_CMD = 48;

    static final int OP_POLL_ADD = 6;
    static final int OP_URING_CMD = 46;
    static final int SQE_FIXED_FILE = 1;
    static final int POLLIN = 1;

    // ---------------------------------------------------------------- struct io_uring_cqe (16 bytes)
    static final int CQE_SIZE = 16;
    static final int CQE_USER_DATA = 0;
    static final int CQE_RES = 8;

    // ---------------------------------------------------------------- FUSE over io_uring (<linux/fuse.h> 7.42)
    /** INIT flag (flags2 bit 9): the daemon will serve requests through io_uring. */
    static final long FUSE_OVER_IO_URING = 1L << 41;

    /** enum fuse_uring_cmd, the cmd_op of the SQE. */
    static final int CMD_REGISTER = 1;
    static final int CMD_COMMIT_AND_FETCH = 2;

    /**
     * struct fuse_uring_req_header (288 bytes), the first of the two buffers of a ring entry:
     * in_out[128] (struct fuse_in_header from the kernel, struct fuse_out_header back),
     * op_in[128] (the opcode's first argument, e.g. struct fuse_write_in), then
     * struct fuse_uring_ent_in_out.
     */
    static final int HEADER_SIZE = 288;
    static final int HEADER_IN_OUT = 0;
    static final int HEADER_OP_IN = 128;
    static final int OP_IN_SIZE = 128;
    static final int HEADER_ENT_FLAGS = 256;
    static final int HEADER_ENT_COMMIT_ID = 264;
    static final int HEADER_ENT_PAYLOAD_SZ = 272;
    /** padding in 7.42; 7.46 names it offset and wants zero. */
    static final int HEADER_ENT_PADDING = 276;

    /** struct fuse_uring_cmd_req in the SQE's command data: flags u64, commit_id u64, qid u16. */
    static final int CMD_REQ_FLAGS = 0;
    static final int CMD_REQ_COMMIT_ID = 8;
    static final int CMD_REQ_QID = 16;
}
