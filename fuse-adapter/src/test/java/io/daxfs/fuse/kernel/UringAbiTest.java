package io.daxfs.fuse.kernel;

import static io.daxfs.fuse.kernel.UringAbi.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The io_uring half of {@link UringAbi} against the installed {@code <linux/io_uring.h>}, as gcc
 * lays it out (as {@code FuseAbiTest} does for FUSE). The FUSE-over-io_uring structs are not in
 * bookworm's headers; a mount through the ring checks them ({@code UringTransportTest}).
 */
class UringAbiTest {
    @TempDir
    Path tmp;

    private static Map<String, Long> claims() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("sizeof(struct io_uring_params)", (long) PARAMS_SIZE);
        m.put("offsetof(struct io_uring_params, sq_entries)", (long) PARAMS_SQ_ENTRIES);
        m.put("offsetof(struct io_uring_params, cq_entries)", (long) PARAMS_CQ_ENTRIES);
        m.put("offsetof(struct io_uring_params, flags)", (long) PARAMS_FLAGS);
        m.put("offsetof(struct io_uring_params, features)", (long) PARAMS_FEATURES);
        m.put("offsetof(struct io_uring_params, sq_off)", (long) PARAMS_SQ_OFF);
        m.put("offsetof(struct io_uring_params, cq_off)", (long) PARAMS_CQ_OFF);
        m.put("offsetof(struct io_sqring_offsets, head)", (long) SQ_OFF_HEAD);
        m.put("offsetof(struct io_sqring_offsets, tail)", (long) SQ_OFF_TAIL);
        m.put("offsetof(struct io_sqring_offsets, ring_mask)", (long) SQ_OFF_RING_MASK);
        m.put("offsetof(struct io_sqring_offsets, ring_entries)", (long) SQ_OFF_RING_ENTRIES);
        m.put("offsetof(struct io_sqring_offsets, flags)", (long) SQ_OFF_FLAGS);
        m.put("offsetof(struct io_sqring_offsets, array)", (long) SQ_OFF_ARRAY);
        m.put("offsetof(struct io_cqring_offsets, head)", (long) CQ_OFF_HEAD);
        m.put("offsetof(struct io_cqring_offsets, tail)", (long) CQ_OFF_TAIL);
        m.put("offsetof(struct io_cqring_offsets, ring_mask)", (long) CQ_OFF_RING_MASK);
        m.put("offsetof(struct io_cqring_offsets, ring_entries)", (long) CQ_OFF_RING_ENTRIES);
        m.put("offsetof(struct io_cqring_offsets, overflow)", (long) CQ_OFF_OVERFLOW);
        m.put("offsetof(struct io_cqring_offsets, cqes)", (long) CQ_OFF_CQES);
        m.put("2 * sizeof(struct io_uring_sqe)", (long) SQE_SIZE);
        m.put("offsetof(struct io_uring_sqe, opcode)", (long) SQE_OPCODE);
        m.put("offsetof(struct io_uring_sqe, flags)", (long) SQE_FLAGS);
        m.put("offsetof(struct io_uring_sqe, fd)", (long) SQE_FD);
        m.put("offsetof(struct io_uring_sqe, cmd_op)", (long) SQE_CMD_OP);
        m.put("offsetof(struct io_uring_sqe, addr)", (long) SQE_ADDR);
        m.put("offsetof(struct io_uring_sqe, len)", (long) SQE_LEN);
        m.put("offsetof(struct io_uring_sqe, poll32_events)", (long) SQE_OP_FLAGS);
        m.put("offsetof(struct io_uring_sqe, uring_cmd_flags)", (long) SQE_OP_FLAGS);
        m.put("offsetof(struct io_uring_sqe, user_data)", (long) SQE_USER_DATA);
        m.put("offsetof(struct io_uring_sqe, cmd)", (long) SQE_CMD);
        m.put("sizeof(struct io_uring_cqe)", (long) CQE_SIZE);
        m.put("offsetof(struct io_uring_cqe, user_data)", (long) CQE_USER_DATA);
        m.put("offsetof(struct io_uring_cqe, res)", (long) CQE_RES);
        m.put("IORING_SETUP_CQSIZE", (long) SETUP_CQSIZE);
        m.put("IORING_SETUP_SUBMIT_ALL", (long) SETUP_SUBMIT_ALL);
        m.put("IORING_SETUP_SQE128", (long) SETUP_SQE128);
        m.put("IORING_FEAT_SINGLE_MMAP", (long) FEAT_SINGLE_MMAP);
        m.put("IORING_OFF_SQ_RING", OFF_SQ_RING);
        m.put("IORING_OFF_CQ_RING", OFF_CQ_RING);
        m.put("IORING_OFF_SQES", OFF_SQES);
        m.put("IORING_ENTER_GETEVENTS", (long) ENTER_GETEVENTS);
        m.put("IORING_REGISTER_FILES", (long) REGISTER_FILES);
        m.put("IORING_OP_POLL_ADD", (long) OP_POLL_ADD);
        m.put("IORING_OP_URING_CMD", (long) OP_URING_CMD);
        m.put("IOSQE_FIXED_FILE", (long) SQE_FIXED_FILE);
        m.put("POLLIN", (long) POLLIN);
        m.put("__NR_io_uring_setup", SYS_IO_URING_SETUP);
        m.put("__NR_io_uring_enter", SYS_IO_URING_ENTER);
        m.put("__NR_io_uring_register", SYS_IO_URING_REGISTER);
        m.put("__NR_write", LinuxCalls.SYS_WRITE);
        m.put("__NR_close", LinuxCalls.SYS_CLOSE);
        m.put("__NR_mmap", LinuxCalls.SYS_MMAP);
        m.put("__NR_munmap", LinuxCalls.SYS_MUNMAP);
        m.put("__NR_sched_setaffinity", LinuxCalls.SYS_SCHED_SETAFFINITY);
        m.put("__NR_eventfd2", LinuxCalls.SYS_EVENTFD2);
        m.put("PROT_READ | PROT_WRITE", (long) (LinuxCalls.PROT_READ | LinuxCalls.PROT_WRITE));
        m.put("MAP_SHARED", (long) LinuxCalls.MAP_SHARED);
        m.put("MAP_PRIVATE | MAP_ANONYMOUS", (long) (LinuxCalls.MAP_PRIVATE | LinuxCalls.MAP_ANONYMOUS));
        m.put("MAP_POPULATE", (long) LinuxCalls.MAP_POPULATE);
        m.put("EFD_CLOEXEC", (long) LinuxCalls.EFD_CLOEXEC);
        m.put("ENOTCONN", (long) LinuxCalls.ENOTCONN);
        m.put("ECONNABORTED", (long) LinuxCalls.ECONNABORTED);
        m.put("ECANCELED", (long) LinuxCalls.ECANCELED);
        m.put("EOPNOTSUPP", (long) LinuxCalls.EOPNOTSUPP);
        return m;
    }

    @Test
    void everyIoUringConstantMatchesTheInstalledHeader() throws Exception {
        assumeTrue(Files.exists(Path.of("/usr/include/linux/io_uring.h")), "no <linux/io_uring.h> (linux-libc-dev)");
        HeaderProbe.assertClaims(tmp, "#define _GNU_SOURCE\n#include <linux/io_uring.h>\n#include <stddef.h>\n"
                + "#include <stdio.h>\n#include <errno.h>\n#include <poll.h>\n#include <sys/mman.h>\n"
                + "#include <sys/eventfd.h>\n#include <sys/syscall.h>\n", claims());
    }

    /** The FUSE-over-io_uring header as include/uapi/linux/fuse.h (7.42) lays it out. */
    @Test
    void theRingEntryHeaderAddsUp() {
        assertEquals(FuseAbi.IN_HEADER_SIZE <= OP_IN_SIZE, true);
        assertEquals(HEADER_OP_IN, HEADER_IN_OUT + 128, "in_out[FUSE_URING_IN_OUT_HEADER_SZ = 128]");
        assertEquals(HEADER_ENT_FLAGS, HEADER_OP_IN + OP_IN_SIZE, "op_in[FUSE_URING_OP_IN_OUT_SZ = 128]");
        assertEquals(HEADER_SIZE, HEADER_ENT_FLAGS + 32, "struct fuse_uring_ent_in_out: 4 x 8 bytes");
        assertEquals(HEADER_ENT_PAYLOAD_SZ, HEADER_ENT_COMMIT_ID + 8);
        assertEquals(24, CMD_REQ_QID + 8, "struct fuse_uring_cmd_req: flags, commit_id, qid + padding[6]");
        assertEquals(1L << 41, FUSE_OVER_IO_URING);
    }
}
