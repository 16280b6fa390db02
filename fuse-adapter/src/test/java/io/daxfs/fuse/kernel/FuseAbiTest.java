package io.daxfs.fuse.kernel;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ground truth for {@link FuseAbi}: every struct offset, size, opcode and flag bit daxfs uses,
 * as gcc lays out and defines them in the installed {@code <linux/fuse.h>}. A wrong offset would
 * make the kernel read garbage (or refuse the reply), so each one is checked.
 */
class FuseAbiTest {
    @TempDir
    Path tmp;

    /** C expression -> the value FuseAbi claims. */
    private static Map<String, Long> claims() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("sizeof(struct fuse_in_header)", (long) IN_HEADER_SIZE);
        m.put("offsetof(struct fuse_in_header, opcode)", (long) IN_OPCODE);
        m.put("offsetof(struct fuse_in_header, unique)", (long) IN_UNIQUE);
        m.put("offsetof(struct fuse_in_header, nodeid)", (long) IN_NODEID);
        m.put("offsetof(struct fuse_in_header, uid)", (long) IN_UID);
        m.put("offsetof(struct fuse_in_header, gid)", (long) IN_GID);
        m.put("offsetof(struct fuse_in_header, pid)", (long) IN_PID);
        m.put("offsetof(struct fuse_in_header, total_extlen)", (long) IN_TOTAL_EXTLEN);
        m.put("sizeof(struct fuse_out_header)", (long) OUT_HEADER_SIZE);
        m.put("offsetof(struct fuse_out_header, error)", (long) OUT_ERROR);
        m.put("offsetof(struct fuse_out_header, unique)", (long) OUT_UNIQUE);
        m.put("sizeof(struct fuse_attr)", (long) ATTR_SIZE);
        m.put("offsetof(struct fuse_attr, size)", (long) ATTR_FSIZE);
        m.put("offsetof(struct fuse_attr, blocks)", (long) ATTR_BLOCKS);
        m.put("offsetof(struct fuse_attr, atime)", (long) ATTR_ATIME);
        m.put("offsetof(struct fuse_attr, mtime)", (long) ATTR_MTIME);
        m.put("offsetof(struct fuse_attr, ctime)", (long) ATTR_CTIME);
        m.put("offsetof(struct fuse_attr, atimensec)", (long) ATTR_ATIMENSEC);
        m.put("offsetof(struct fuse_attr, mtimensec)", (long) ATTR_MTIMENSEC);
        m.put("offsetof(struct fuse_attr, ctimensec)", (long) ATTR_CTIMENSEC);
        m.put("offsetof(struct fuse_attr, mode)", (long) ATTR_MODE);
        m.put("offsetof(struct fuse_attr, nlink)", (long) ATTR_NLINK);
        m.put("offsetof(struct fuse_attr, uid)", (long) ATTR_UID);
        m.put("offsetof(struct fuse_attr, gid)", (long) ATTR_GID);
        m.put("offsetof(struct fuse_attr, rdev)", (long) ATTR_RDEV);
        m.put("offsetof(struct fuse_attr, blksize)", (long) ATTR_BLKSIZE);
        m.put("offsetof(struct fuse_attr, flags)", (long) ATTR_FLAGS);
        m.put("sizeof(struct fuse_entry_out)", (long) ENTRY_OUT_SIZE);
        m.put("offsetof(struct fuse_entry_out, generation)", (long) ENTRY_GENERATION);
        m.put("offsetof(struct fuse_entry_out, entry_valid)", (long) ENTRY_VALID);
        m.put("offsetof(struct fuse_entry_out, attr_valid)", (long) ENTRY_ATTR_VALID);
        m.put("offsetof(struct fuse_entry_out, entry_valid_nsec)", (long) ENTRY_VALID_NSEC);
        m.put("offsetof(struct fuse_entry_out, attr_valid_nsec)", (long) ENTRY_ATTR_VALID_NSEC);
        m.put("offsetof(struct fuse_entry_out, attr)", (long) ENTRY_ATTR);
        m.put("sizeof(struct fuse_attr_out)", (long) ATTR_OUT_SIZE);
        m.put("offsetof(struct fuse_attr_out, attr_valid_nsec)", (long) ATTR_OUT_VALID_NSEC);
        m.put("offsetof(struct fuse_attr_out, attr)", (long) ATTR_OUT_ATTR);
        m.put("sizeof(struct fuse_open_out)", (long) OPEN_OUT_SIZE);
        m.put("offsetof(struct fuse_open_out, open_flags)", (long) OPEN_OUT_FLAGS);
        m.put("sizeof(struct fuse_ioctl_in)", (long) IOCTL_IN_SIZE);
        m.put("offsetof(struct fuse_ioctl_in, fh)", (long) IOCTL_IN_FH);
        m.put("offsetof(struct fuse_ioctl_in, flags)", (long) IOCTL_IN_FLAGS);
        m.put("offsetof(struct fuse_ioctl_in, cmd)", (long) IOCTL_IN_CMD);
        m.put("offsetof(struct fuse_ioctl_in, arg)", (long) IOCTL_IN_ARG);
        m.put("offsetof(struct fuse_ioctl_in, in_size)", (long) IOCTL_IN_IN_SIZE);
        m.put("offsetof(struct fuse_ioctl_in, out_size)", (long) IOCTL_IN_OUT_SIZE);
        m.put("sizeof(struct fuse_ioctl_out)", (long) IOCTL_OUT_SIZE);
        m.put("offsetof(struct fuse_ioctl_out, result)", (long) IOCTL_OUT_RESULT);
        m.put("offsetof(struct fuse_ioctl_out, flags)", (long) IOCTL_OUT_FLAGS);
        m.put("FUSE_IOCTL_COMPAT", (long) IOCTL_COMPAT);
        m.put("FUSE_IOCTL_UNRESTRICTED", (long) IOCTL_UNRESTRICTED);
        m.put("FUSE_IOCTL_DIR", (long) IOCTL_DIR);
        m.put("FUSE_IOCTL", (long) IOCTL);
        m.put("FUSE_POLL", (long) POLL);
        m.put("offsetof(struct fuse_poll_in, fh)", (long) POLL_IN_FH);
        m.put("offsetof(struct fuse_poll_in, kh)", (long) POLL_IN_KH);
        m.put("offsetof(struct fuse_poll_in, flags)", (long) POLL_IN_FLAGS);
        m.put("offsetof(struct fuse_poll_in, events)", (long) POLL_IN_EVENTS);
        m.put("sizeof(struct fuse_poll_out)", (long) POLL_OUT_SIZE);
        m.put("FUSE_POLL_SCHEDULE_NOTIFY", (long) POLL_SCHEDULE_NOTIFY);
        m.put("FUSE_NOTIFY_POLL", (long) NOTIFY_POLL);
        m.put("sizeof(struct fuse_notify_poll_wakeup_out)", 8L);
        m.put("offsetof(struct fuse_getattr_in, fh)", (long) GETATTR_IN_FH);
        m.put("offsetof(struct fuse_setattr_in, valid)", (long) SETATTR_IN_VALID);
        m.put("offsetof(struct fuse_setattr_in, fh)", (long) SETATTR_IN_FH);
        m.put("offsetof(struct fuse_setattr_in, size)", (long) SETATTR_IN_SIZE);
        m.put("offsetof(struct fuse_setattr_in, atime)", (long) SETATTR_IN_ATIME);
        m.put("offsetof(struct fuse_setattr_in, mtime)", (long) SETATTR_IN_MTIME);
        m.put("offsetof(struct fuse_setattr_in, ctime)", (long) SETATTR_IN_CTIME);
        m.put("offsetof(struct fuse_setattr_in, atimensec)", (long) SETATTR_IN_ATIMENSEC);
        m.put("offsetof(struct fuse_setattr_in, mtimensec)", (long) SETATTR_IN_MTIMENSEC);
        m.put("offsetof(struct fuse_setattr_in, ctimensec)", (long) SETATTR_IN_CTIMENSEC);
        m.put("offsetof(struct fuse_setattr_in, mode)", (long) SETATTR_IN_MODE);
        m.put("offsetof(struct fuse_setattr_in, uid)", (long) SETATTR_IN_UID);
        m.put("offsetof(struct fuse_setattr_in, gid)", (long) SETATTR_IN_GID);
        m.put("sizeof(struct fuse_mknod_in)", (long) MKNOD_IN_SIZE);
        m.put("sizeof(struct fuse_mkdir_in)", (long) MKDIR_IN_SIZE);
        m.put("sizeof(struct fuse_rename_in)", (long) RENAME_IN_SIZE);
        m.put("sizeof(struct fuse_rename2_in)", (long) RENAME2_IN_SIZE);
        m.put("offsetof(struct fuse_rename2_in, flags)", 8L);
        m.put("sizeof(struct fuse_link_in)", (long) LINK_IN_SIZE);
        m.put("offsetof(struct fuse_open_in, open_flags)", (long) OPEN_IN_OPEN_FLAGS);
        m.put("sizeof(struct fuse_create_in)", (long) CREATE_IN_SIZE);
        m.put("offsetof(struct fuse_create_in, mode)", 4L);
        m.put("offsetof(struct fuse_create_in, umask)", 8L);
        m.put("offsetof(struct fuse_create_in, open_flags)", 12L);
        m.put("offsetof(struct fuse_read_in, offset)", (long) IO_IN_OFFSET);
        m.put("offsetof(struct fuse_read_in, size)", (long) IO_IN_SIZE);
        m.put("offsetof(struct fuse_read_in, read_flags)", (long) IO_IN_IO_FLAGS);
        m.put("offsetof(struct fuse_read_in, flags)", (long) IO_IN_FLAGS);
        m.put("offsetof(struct fuse_write_in, offset)", (long) IO_IN_OFFSET);
        m.put("offsetof(struct fuse_write_in, size)", (long) IO_IN_SIZE);
        m.put("offsetof(struct fuse_write_in, write_flags)", (long) IO_IN_IO_FLAGS);
        m.put("sizeof(struct fuse_write_in)", (long) WRITE_IN_SIZE);
        m.put("sizeof(struct fuse_write_out)", (long) WRITE_OUT_SIZE);
        m.put("sizeof(struct fuse_setxattr_in)", (long) SETXATTR_IN_SIZE);
        m.put("FUSE_COMPAT_SETXATTR_IN_SIZE", (long) SETXATTR_IN_COMPAT_SIZE);
        m.put("sizeof(struct fuse_getxattr_in)", (long) GETXATTR_IN_SIZE);
        m.put("sizeof(struct fuse_getxattr_out)", (long) GETXATTR_OUT_SIZE);
        m.put("offsetof(struct fuse_fallocate_in, offset)", (long) FALLOCATE_IN_OFFSET);
        m.put("offsetof(struct fuse_fallocate_in, length)", (long) FALLOCATE_IN_LENGTH);
        m.put("offsetof(struct fuse_fallocate_in, mode)", (long) FALLOCATE_IN_MODE);
        m.put("offsetof(struct fuse_lseek_in, offset)", (long) LSEEK_IN_OFFSET);
        m.put("offsetof(struct fuse_lseek_in, whence)", (long) LSEEK_IN_WHENCE);
        m.put("sizeof(struct fuse_lseek_out)", (long) LSEEK_OUT_SIZE);
        m.put("offsetof(struct fuse_copy_file_range_in, off_in)", (long) CFR_IN_OFF_IN);
        m.put("offsetof(struct fuse_copy_file_range_in, nodeid_out)", (long) CFR_IN_NODEID_OUT);
        m.put("offsetof(struct fuse_copy_file_range_in, fh_out)", (long) CFR_IN_FH_OUT);
        m.put("offsetof(struct fuse_copy_file_range_in, off_out)", (long) CFR_IN_OFF_OUT);
        m.put("offsetof(struct fuse_copy_file_range_in, len)", (long) CFR_IN_LEN);
        m.put("offsetof(struct fuse_copy_file_range_in, flags)", (long) CFR_IN_FLAGS);
        m.put("offsetof(struct fuse_init_in, minor)", (long) INIT_IN_MINOR);
        m.put("offsetof(struct fuse_init_in, max_readahead)", (long) INIT_IN_MAX_READAHEAD);
        m.put("offsetof(struct fuse_init_in, flags)", (long) INIT_IN_FLAGS);
        m.put("offsetof(struct fuse_init_in, flags2)", (long) INIT_IN_FLAGS2);
        m.put("sizeof(struct fuse_init_out)", (long) INIT_OUT_SIZE);
        m.put("offsetof(struct fuse_init_out, max_readahead)", (long) INIT_OUT_MAX_READAHEAD);
        m.put("offsetof(struct fuse_init_out, flags)", (long) INIT_OUT_FLAGS);
        m.put("offsetof(struct fuse_init_out, max_background)", (long) INIT_OUT_MAX_BACKGROUND);
        m.put("offsetof(struct fuse_init_out, congestion_threshold)", (long) INIT_OUT_CONGESTION_THRESHOLD);
        m.put("offsetof(struct fuse_init_out, max_write)", (long) INIT_OUT_MAX_WRITE);
        m.put("offsetof(struct fuse_init_out, time_gran)", (long) INIT_OUT_TIME_GRAN);
        m.put("offsetof(struct fuse_init_out, max_pages)", (long) INIT_OUT_MAX_PAGES);
        m.put("offsetof(struct fuse_init_out, flags2)", (long) INIT_OUT_FLAGS2);
        m.put("sizeof(struct fuse_statfs_out)", (long) STATFS_OUT_SIZE);
        m.put("offsetof(struct fuse_kstatfs, bfree)", (long) STATFS_BFREE);
        m.put("offsetof(struct fuse_kstatfs, bavail)", (long) STATFS_BAVAIL);
        m.put("offsetof(struct fuse_kstatfs, files)", (long) STATFS_FILES);
        m.put("offsetof(struct fuse_kstatfs, ffree)", (long) STATFS_FFREE);
        m.put("offsetof(struct fuse_kstatfs, bsize)", (long) STATFS_BSIZE);
        m.put("offsetof(struct fuse_kstatfs, namelen)", (long) STATFS_NAMELEN);
        m.put("offsetof(struct fuse_kstatfs, frsize)", (long) STATFS_FRSIZE);
        m.put("FUSE_NAME_OFFSET", (long) DIRENT_HEADER);
        m.put("sizeof(struct fuse_notify_inval_inode_out) + sizeof(struct fuse_out_header)", (long) Reply.NOTICE_SIZE);
        m.put("FUSE_NOTIFY_INVAL_INODE", (long) NOTIFY_INVAL_INODE);
        String[] opcodes = {"LOOKUP", "FORGET", "GETATTR", "SETATTR", "READLINK", "SYMLINK", "MKNOD", "MKDIR",
            "UNLINK", "RMDIR", "RENAME", "LINK", "OPEN", "READ", "WRITE", "STATFS", "RELEASE", "FSYNC", "SETXATTR",
            "GETXATTR", "LISTXATTR", "REMOVEXATTR", "FLUSH", "INIT", "OPENDIR", "READDIR", "RELEASEDIR", "FSYNCDIR",
            "ACCESS", "CREATE", "INTERRUPT", "DESTROY", "BATCH_FORGET", "FALLOCATE", "READDIRPLUS", "RENAME2",
            "LSEEK", "COPY_FILE_RANGE", "SYNCFS", "TMPFILE"};
        for (String op : opcodes) {
            m.put("FUSE_" + op, (long) constant(op));
        }
        String[] flags = {"ASYNC_READ", "ATOMIC_O_TRUNC", "EXPORT_SUPPORT", "BIG_WRITES", "DONT_MASK", "DO_READDIRPLUS",
            "READDIRPLUS_AUTO", "ASYNC_DIO", "WRITEBACK_CACHE", "PARALLEL_DIROPS", "POSIX_ACL", "MAX_PAGES",
            "CACHE_SYMLINKS", "HANDLE_KILLPRIV_V2", "SETXATTR_EXT", "INIT_EXT"};
        for (String f : flags) {
            m.put("(long long) FUSE_" + f, constantLong(f));
        }
        m.put("FATTR_KILL_SUIDGID", (long) FATTR_KILL_SUIDGID);
        m.put("FATTR_MTIME_NOW", (long) FATTR_MTIME_NOW);
        m.put("FOPEN_KEEP_CACHE", (long) FOPEN_KEEP_CACHE);
        m.put("FUSE_WRITE_KILL_SUIDGID", (long) WRITE_KILL_SUIDGID);
        m.put("FUSE_OPEN_KILL_SUIDGID", (long) OPEN_KILL_SUIDGID);
        // 7.39+ (from NEWER when the installed header is older)
        m.put("FUSE_STATX", (long) STATX);
        m.put("sizeof(struct fuse_statx_in)", (long) STATX_IN_SIZE);
        m.put("sizeof(struct fuse_statx_out)", (long) STATX_OUT_SIZE);
        m.put("offsetof(struct fuse_statx_out, attr_valid_nsec)", (long) STATX_OUT_VALID_NSEC);
        m.put("offsetof(struct fuse_statx_out, stat)", (long) STATX_OUT_STAT);
        m.put("offsetof(struct fuse_statx, blksize)", (long) SX_BLKSIZE);
        m.put("offsetof(struct fuse_statx, attributes)", (long) SX_ATTRIBUTES);
        m.put("offsetof(struct fuse_statx, nlink)", (long) SX_NLINK);
        m.put("offsetof(struct fuse_statx, uid)", (long) SX_UID);
        m.put("offsetof(struct fuse_statx, gid)", (long) SX_GID);
        m.put("offsetof(struct fuse_statx, mode)", (long) SX_MODE);
        m.put("offsetof(struct fuse_statx, ino)", (long) SX_INO);
        m.put("offsetof(struct fuse_statx, size)", (long) SX_SIZE);
        m.put("offsetof(struct fuse_statx, blocks)", (long) SX_BLOCKS);
        m.put("offsetof(struct fuse_statx, attributes_mask)", (long) SX_ATTRIBUTES_MASK);
        m.put("offsetof(struct fuse_statx, atime)", (long) SX_ATIME);
        m.put("offsetof(struct fuse_statx, btime)", (long) SX_BTIME);
        m.put("offsetof(struct fuse_statx, ctime)", (long) SX_CTIME);
        m.put("offsetof(struct fuse_statx, mtime)", (long) SX_MTIME);
        m.put("offsetof(struct fuse_statx, rdev_major)", (long) SX_RDEV_MAJOR);
        m.put("offsetof(struct fuse_statx, rdev_minor)", (long) SX_RDEV_MINOR);
        m.put("STATX_BASIC_STATS", (long) STATX_BASIC_STATS);
        m.put("STATX_BTIME", (long) STATX_BTIME);
        return m;
    }

    /**
     * What daxfs uses of protocol versions after the installed header's (Debian bookworm's is
     * 7.38), as <linux/fuse.h> of Linux 6.6+ declares it; compiled only when the header lacks it.
     */
    private static final String NEWER = """
            #if FUSE_KERNEL_MINOR_VERSION < 39
            #define FUSE_STATX 52
            struct fuse_sx_time { int64_t tv_sec; uint32_t tv_nsec; int32_t __reserved; };
            struct fuse_statx {
                uint32_t mask; uint32_t blksize; uint64_t attributes; uint32_t nlink; uint32_t uid; uint32_t gid;
                uint16_t mode; uint16_t __spare0[1]; uint64_t ino; uint64_t size; uint64_t blocks;
                uint64_t attributes_mask; struct fuse_sx_time atime; struct fuse_sx_time btime;
                struct fuse_sx_time ctime; struct fuse_sx_time mtime; uint32_t rdev_major; uint32_t rdev_minor;
                uint32_t dev_major; uint32_t dev_minor; uint64_t __spare2[14];
            };
            struct fuse_statx_in { uint32_t getattr_flags; uint32_t reserved; uint64_t fh; uint32_t sx_flags;
                uint32_t sx_mask; };
            struct fuse_statx_out { uint64_t attr_valid; uint32_t attr_valid_nsec; uint32_t flags; uint64_t spare[2];
                struct fuse_statx stat; };
            #endif
            """;

    private static int constant(String name) {
        try {
            return FuseAbi.class.getDeclaredField(name).getInt(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(name, e);
        }
    }

    private static long constantLong(String name) {
        try {
            return FuseAbi.class.getDeclaredField(name).getLong(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(name, e);
        }
    }

    @Test
    void everyConstantMatchesTheInstalledHeader() throws Exception {
        assumeTrue(Files.exists(Path.of("/usr/include/linux/fuse.h")), "no <linux/fuse.h> (linux-libc-dev)");
        HeaderProbe.assertClaims(tmp, "#include <linux/fuse.h>\n#include <linux/stat.h>\n#include <stddef.h>\n"
                + "#include <stdio.h>\n" + NEWER, claims());
    }
}
