package io.daxfs.core.base;

/** The Linux errno values fs-core reports. The FUSE adapter returns {@code -code()}. */
public enum Errno {
    EPERM(1), ENOENT(2), ENXIO(6), EIO(5), EBADF(9), EAGAIN(11), ENOMEM(12), EACCES(13), EBUSY(16),
    EEXIST(17), EXDEV(18), ENODEV(19), ENOTDIR(20), EISDIR(21), EINVAL(22), EFBIG(27),
    ENOSPC(28), ESPIPE(29), EROFS(30), EMLINK(31), ERANGE(34), ENAMETOOLONG(36), ENOSYS(38),
    ENOTEMPTY(39), ELOOP(40), ENODATA(61), EOVERFLOW(75), EOPNOTSUPP(95), E2BIG(7), ENOTTY(25), ESTALE(116),
    /** Structure needs cleaning: the file system found its own metadata damaged. */
    EUCLEAN(117);

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
