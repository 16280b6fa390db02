package io.daxfs.fuse.kernel;

/**
 * The Linux FUSE kernel protocol as daxfs speaks it: opcodes, flag bits and the byte offsets of
 * the structs in {@code <linux/fuse.h>} (protocol 7.38; all little-endian, naturally aligned).
 * Only what daxfs uses is here. The layouts are checked against the C header by a test
 * ({@code FuseAbiTest}) that compiles offsetof() probes with gcc.
 */
final class FuseAbi {
    private FuseAbi() {
    }

    static final int KERNEL_VERSION = 7;
    /** The minor version daxfs implements; it answers INIT with min(kernel's, this). */
    static final int KERNEL_MINOR_VERSION = 38;
    /** Minor versions before this lack the struct sizes and features daxfs relies on. */
    static final int MIN_KERNEL_MINOR = 31;
    static final long ROOT_ID = 1;
    /** The kernel refuses reads of /dev/fuse into smaller buffers. */
    static final int MIN_READ_BUFFER = 8192;

    // ---------------------------------------------------------------- opcodes
    static final int LOOKUP = 1;
    static final int FORGET = 2;
    static final int GETATTR = 3;
    static final int SETATTR = 4;
    static final int READLINK = 5;
    static final int SYMLINK = 6;
    static final int MKNOD = 8;
    static final int MKDIR = 9;
    static final int UNLINK = 10;
    static final int RMDIR = 11;
    static final int RENAME = 12;
    static final int LINK = 13;
    static final int OPEN = 14;
    static final int READ = 15;
    static final int WRITE = 16;
    static final int STATFS = 17;
    static final int RELEASE = 18;
    static final int FSYNC = 20;
    static final int SETXATTR = 21;
    static final int GETXATTR = 22;
    static final int LISTXATTR = 23;
    static final int REMOVEXATTR = 24;
    static final int FLUSH = 25;
    static final int INIT = 26;
    static final int OPENDIR = 27;
    static final int READDIR = 28;
    static final int RELEASEDIR = 29;
    static final int FSYNCDIR = 30;
    static final int GETLK = 31;
    static final int SETLK = 32;
    static final int SETLKW = 33;
    static final int ACCESS = 34;
    static final int CREATE = 35;
    static final int INTERRUPT = 36;
    static final int BMAP = 37;
    static final int DESTROY = 38;
    static final int IOCTL = 39;
    static final int POLL = 40;
    static final int NOTIFY_REPLY = 41;
    static final int BATCH_FORGET = 42;
    static final int FALLOCATE = 43;
    static final int READDIRPLUS = 44;
    static final int RENAME2 = 45;
    static final int LSEEK = 46;
    static final int COPY_FILE_RANGE = 47;
    static final int SYNCFS = 50;
    static final int TMPFILE = 51;
    /** 7.39 (Linux 6.6); not in a 7.38 header. */
    static final int STATX = 52;

    // ---------------------------------------------------------------- INIT flags
    static final long ASYNC_READ = 1L;
    static final long ATOMIC_O_TRUNC = 1L << 3;
    static final long EXPORT_SUPPORT = 1L << 4;
    static final long BIG_WRITES = 1L << 5;
    static final long DONT_MASK = 1L << 6;
    static final long DO_READDIRPLUS = 1L << 13;
    static final long READDIRPLUS_AUTO = 1L << 14;
    static final long ASYNC_DIO = 1L << 15;
    static final long WRITEBACK_CACHE = 1L << 16;
    static final long PARALLEL_DIROPS = 1L << 18;
    static final long POSIX_ACL = 1L << 20;
    static final long MAX_PAGES = 1L << 22;
    static final long CACHE_SYMLINKS = 1L << 23;
    static final long HANDLE_KILLPRIV_V2 = 1L << 28;
    static final long SETXATTR_EXT = 1L << 29;
    static final long INIT_EXT = 1L << 30;
    /** 7.39 (Linux 6.6): shared mmap of a FOPEN_DIRECT_IO file, through the page cache. */
    static final long DIRECT_IO_ALLOW_MMAP = 1L << 36;

    // ---------------------------------------------------------------- other flag bits
    static final int FATTR_MODE = 1;
    static final int FATTR_UID = 1 << 1;
    static final int FATTR_GID = 1 << 2;
    static final int FATTR_SIZE = 1 << 3;
    static final int FATTR_ATIME = 1 << 4;
    static final int FATTR_MTIME = 1 << 5;
    static final int FATTR_FH = 1 << 6;
    static final int FATTR_ATIME_NOW = 1 << 7;
    static final int FATTR_MTIME_NOW = 1 << 8;
    static final int FATTR_CTIME = 1 << 10;
    static final int FATTR_KILL_SUIDGID = 1 << 11;

    static final int FOPEN_DIRECT_IO = 1;
    static final int FOPEN_KEEP_CACHE = 1 << 1;
    static final int FOPEN_CACHE_DIR = 1 << 3;

    static final int WRITE_KILL_SUIDGID = 1 << 2;
    static final int OPEN_KILL_SUIDGID = 1;
    static final int SETXATTR_ACL_KILL_SGID = 1;
    static final int GETATTR_FH = 1;

    static final int RENAME_NOREPLACE = 1;
    static final int RENAME_EXCHANGE = 1 << 1;
    static final int RENAME_WHITEOUT = 1 << 2;

    // ---------------------------------------------------------------- struct fuse_in_header (40 bytes)
    static final int IN_HEADER_SIZE = 40;
    static final int IN_LEN = 0;
    static final int IN_OPCODE = 4;
    static final int IN_UNIQUE = 8;
    static final int IN_NODEID = 16;
    static final int IN_UID = 24;
    static final int IN_GID = 28;
    static final int IN_PID = 32;
    static final int IN_TOTAL_EXTLEN = 36;

    // ---------------------------------------------------------------- struct fuse_out_header (16 bytes)
    static final int OUT_HEADER_SIZE = 16;
    static final int OUT_LEN = 0;
    static final int OUT_ERROR = 4;
    static final int OUT_UNIQUE = 8;

    // ---------------------------------------------------------------- struct fuse_attr (88 bytes)
    static final int ATTR_SIZE = 88;
    static final int ATTR_INO = 0;
    static final int ATTR_FSIZE = 8;
    static final int ATTR_BLOCKS = 16;
    static final int ATTR_ATIME = 24;
    static final int ATTR_MTIME = 32;
    static final int ATTR_CTIME = 40;
    static final int ATTR_ATIMENSEC = 48;
    static final int ATTR_MTIMENSEC = 52;
    static final int ATTR_CTIMENSEC = 56;
    static final int ATTR_MODE = 60;
    static final int ATTR_NLINK = 64;
    static final int ATTR_UID = 68;
    static final int ATTR_GID = 72;
    static final int ATTR_RDEV = 76;
    static final int ATTR_BLKSIZE = 80;
    static final int ATTR_FLAGS = 84;

    // ---------------------------------------------------------------- struct fuse_entry_out (128 bytes)
    static final int ENTRY_OUT_SIZE = 128;
    static final int ENTRY_NODEID = 0;
    static final int ENTRY_GENERATION = 8;
    static final int ENTRY_VALID = 16;
    static final int ENTRY_ATTR_VALID = 24;
    static final int ENTRY_VALID_NSEC = 32;
    static final int ENTRY_ATTR_VALID_NSEC = 36;
    static final int ENTRY_ATTR = 40;

    // ---------------------------------------------------------------- struct fuse_attr_out (104 bytes)
    static final int ATTR_OUT_SIZE = 104;
    static final int ATTR_OUT_VALID = 0;
    static final int ATTR_OUT_VALID_NSEC = 8;
    static final int ATTR_OUT_ATTR = 16;

    // ---------------------------------------------------------------- struct fuse_open_out (16 bytes)
    static final int OPEN_OUT_SIZE = 16;
    static final int OPEN_OUT_FH = 0;
    static final int OPEN_OUT_FLAGS = 8;

    // ---------------------------------------------------------------- inputs
    /** fuse_getattr_in: getattr_flags u32, dummy u32, fh u64. */
    static final int GETATTR_IN_FLAGS = 0;
    static final int GETATTR_IN_FH = 8;

    /** fuse_setattr_in (88 bytes). */
    static final int SETATTR_IN_VALID = 0;
    static final int SETATTR_IN_FH = 8;
    static final int SETATTR_IN_SIZE = 16;
    static final int SETATTR_IN_ATIME = 32;
    static final int SETATTR_IN_MTIME = 40;
    static final int SETATTR_IN_CTIME = 48;
    static final int SETATTR_IN_ATIMENSEC = 56;
    static final int SETATTR_IN_MTIMENSEC = 60;
    static final int SETATTR_IN_CTIMENSEC = 64;
    static final int SETATTR_IN_MODE = 68;
    static final int SETATTR_IN_UID = 76;
    static final int SETATTR_IN_GID = 80;

    /** fuse_mknod_in: mode, rdev, umask, padding (16 bytes), then the name. */
    static final int MKNOD_IN_SIZE = 16;
    /** fuse_mkdir_in: mode, umask (8 bytes), then the name. */
    static final int MKDIR_IN_SIZE = 8;
    /** fuse_rename_in: newdir u64 (8 bytes), then old and new names. */
    static final int RENAME_IN_SIZE = 8;
    /** fuse_rename2_in: newdir u64, flags u32, padding (16 bytes), then the names. */
    static final int RENAME2_IN_SIZE = 16;
    /** fuse_link_in: oldnodeid u64, then the new name. */
    static final int LINK_IN_SIZE = 8;
    /** fuse_open_in: flags u32, open_flags u32. */
    static final int OPEN_IN_FLAGS = 0;
    static final int OPEN_IN_OPEN_FLAGS = 4;
    /** fuse_create_in: flags, mode, umask, open_flags (16 bytes), then the name. */
    static final int CREATE_IN_SIZE = 16;
    /** fuse_read_in / fuse_write_in (40 bytes): fh, offset, size, read/write_flags, lock_owner, flags. */
    static final int IO_IN_FH = 0;
    static final int IO_IN_OFFSET = 8;
    static final int IO_IN_SIZE = 16;
    static final int IO_IN_IO_FLAGS = 20;
    static final int IO_IN_FLAGS = 32;
    static final int WRITE_IN_SIZE = 40;
    /** fuse_release_in: fh, flags, release_flags, lock_owner. */
    static final int RELEASE_IN_FH = 0;
    /** fuse_fsync_in: fh, fsync_flags, padding. */
    static final int FSYNC_IN_FH = 0;
    /** fuse_setxattr_in: size, flags, and with SETXATTR_EXT setxattr_flags, padding. */
    static final int SETXATTR_IN_COMPAT_SIZE = 8;
    static final int SETXATTR_IN_SIZE = 16;
    /** fuse_getxattr_in: size, padding (8 bytes); also listxattr. */
    static final int GETXATTR_IN_SIZE = 8;
    /** fuse_fallocate_in: fh, offset, length, mode, padding. */
    static final int FALLOCATE_IN_FH = 0;
    static final int FALLOCATE_IN_OFFSET = 8;
    static final int FALLOCATE_IN_LENGTH = 16;
    static final int FALLOCATE_IN_MODE = 24;
    /** fuse_lseek_in: fh, offset, whence, padding. */
    static final int LSEEK_IN_OFFSET = 8;
    static final int LSEEK_IN_WHENCE = 16;
    /** fuse_copy_file_range_in. */
    static final int CFR_IN_FH_IN = 0;
    static final int CFR_IN_OFF_IN = 8;
    static final int CFR_IN_NODEID_OUT = 16;
    static final int CFR_IN_FH_OUT = 24;
    static final int CFR_IN_OFF_OUT = 32;
    static final int CFR_IN_LEN = 40;
    static final int CFR_IN_FLAGS = 48;
    /** fuse_ioctl_in (32 bytes): fh, flags, cmd, arg, in_size, out_size; then in_size bytes of data. */
    static final int IOCTL_IN_SIZE = 32;
    static final int IOCTL_IN_FH = 0;
    static final int IOCTL_IN_FLAGS = 8;
    static final int IOCTL_IN_CMD = 12;
    static final int IOCTL_IN_ARG = 16;
    static final int IOCTL_IN_IN_SIZE = 24;
    static final int IOCTL_IN_OUT_SIZE = 28;
    /** fuse_ioctl_out (16 bytes): result, flags, in_iovs, out_iovs; then the out data. */
    static final int IOCTL_OUT_SIZE = 16;
    static final int IOCTL_OUT_RESULT = 0;
    static final int IOCTL_OUT_FLAGS = 4;
    static final int IOCTL_COMPAT = 1;
    static final int IOCTL_UNRESTRICTED = 1 << 1;
    static final int IOCTL_DIR = 1 << 4;
    /** fuse_poll_in (24 bytes): fh, kh, flags, events. fuse_poll_out: revents, padding. */
    static final int POLL_IN_FH = 0;
    static final int POLL_IN_KH = 8;
    static final int POLL_IN_FLAGS = 16;
    static final int POLL_IN_EVENTS = 20;
    static final int POLL_OUT_SIZE = 8;
    static final int POLL_SCHEDULE_NOTIFY = 1;
    /** Notification codes (fuse_notify_code), sent with unique 0 and the code in the error field. */
    static final int NOTIFY_POLL = 1;
    static final int NOTIFY_INVAL_INODE = 2;

    /** fuse_batch_forget_in: count u32, dummy u32, then fuse_forget_one entries (16 bytes). */
    static final int BATCH_FORGET_IN_COUNT = 0;

    /** fuse_init_in (64 bytes from 7.36). */
    static final int INIT_IN_MAJOR = 0;
    static final int INIT_IN_MINOR = 4;
    static final int INIT_IN_MAX_READAHEAD = 8;
    static final int INIT_IN_FLAGS = 12;
    static final int INIT_IN_FLAGS2 = 16;

    /** fuse_init_out (64 bytes). */
    static final int INIT_OUT_SIZE = 64;
    static final int INIT_OUT_MAJOR = 0;
    static final int INIT_OUT_MINOR = 4;
    static final int INIT_OUT_MAX_READAHEAD = 8;
    static final int INIT_OUT_FLAGS = 12;
    static final int INIT_OUT_MAX_BACKGROUND = 16;
    static final int INIT_OUT_CONGESTION_THRESHOLD = 18;
    static final int INIT_OUT_MAX_WRITE = 20;
    static final int INIT_OUT_TIME_GRAN = 24;
    static final int INIT_OUT_MAX_PAGES = 28;
    static final int INIT_OUT_FLAGS2 = 32;

    /**
     * fuse_statx_in (7.39, 24 bytes): getattr_flags, reserved, fh, sx_flags, sx_mask. Then
     * fuse_statx_out (288 bytes): attr_valid u64, attr_valid_nsec u32, flags u32, spare u64[2],
     * and struct fuse_statx at 32 (256 bytes, the layout of struct statx up to dev_minor):
     * mask u32, blksize u32, attributes u64, nlink u32, uid u32, gid u32, mode u16, spare u16,
     * ino, size, blocks, attributes_mask u64, atime, btime, ctime, mtime (fuse_sx_time: sec s64,
     * nsec u32, reserved s32), rdev_major, rdev_minor, dev_major, dev_minor u32, spare u64[14].
     */
    static final int STATX_IN_SIZE = 24;
    static final int STATX_OUT_SIZE = 288;
    static final int STATX_OUT_VALID = 0;
    static final int STATX_OUT_VALID_NSEC = 8;
    static final int STATX_OUT_STAT = 32;
    static final int SX_MASK = 0;
    static final int SX_BLKSIZE = 4;
    static final int SX_ATTRIBUTES = 8;
    static final int SX_NLINK = 16;
    static final int SX_UID = 20;
    static final int SX_GID = 24;
    static final int SX_MODE = 28;
    static final int SX_INO = 32;
    static final int SX_SIZE = 40;
    static final int SX_BLOCKS = 48;
    static final int SX_ATTRIBUTES_MASK = 56;
    static final int SX_ATIME = 64;
    static final int SX_BTIME = 80;
    static final int SX_CTIME = 96;
    static final int SX_MTIME = 112;
    static final int SX_RDEV_MAJOR = 128;
    static final int SX_RDEV_MINOR = 132;
    /** statx(2) mask bits: the basic stats (type, mode, nlink, uid, gid, times, ino, size, blocks) and the birth time. */
    static final int STATX_BASIC_STATS = 0x7ff;
    static final int STATX_BTIME = 0x800;

    /** fuse_kstatfs in fuse_statfs_out (80 bytes). */
    static final int STATFS_OUT_SIZE = 80;
    static final int STATFS_BLOCKS = 0;
    static final int STATFS_BFREE = 8;
    static final int STATFS_BAVAIL = 16;
    static final int STATFS_FILES = 24;
    static final int STATFS_FFREE = 32;
    static final int STATFS_BSIZE = 40;
    static final int STATFS_NAMELEN = 44;
    static final int STATFS_FRSIZE = 48;

    /** fuse_write_out: size u32, padding (8 bytes). fuse_getxattr_out: size u32, padding. */
    static final int WRITE_OUT_SIZE = 8;
    static final int GETXATTR_OUT_SIZE = 8;
    /** fuse_lseek_out: offset u64. */
    static final int LSEEK_OUT_SIZE = 8;

    /** fuse_dirent: ino u64, off u64, namelen u32, type u32, name (padded to 8). */
    static final int DIRENT_HEADER = 24;

    static int direntSize(int nameLength) {
        return (DIRENT_HEADER + nameLength + 7) & ~7;
    }

    static int direntPlusSize(int nameLength) {
        return (ENTRY_OUT_SIZE + DIRENT_HEADER + nameLength + 7) & ~7;
    }
}
