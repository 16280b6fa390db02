package io.daxfs.lease;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * What a daxfs mount lives on, as its DEVICE command tells (docs/leases.md): the device or image
 * path the daemon opened, its kind, size and identity, and how mmap offsets must be aligned.
 *
 * @param path       the path the daemon opened; a client opens it itself, with its own credentials
 * @param devdax     a device-DAX character device (else an image file)
 * @param blockSize  the file system's block size
 * @param mapAlign   the offset and length granularity mmap of the device accepts
 * @param hugeAlign  extents congruent modulo this can be mapped with huge pages (2 MiB)
 * @param size       bytes of the device
 * @param devMajor   with {@code devMinor} and {@code ino}: the identity of the file the daemon
 *                   mapped (for an image file; a client checks its own open file against it)
 * @param rdevMajor  with {@code rdevMinor}: the device number of a device-DAX device
 */
public record DaxDevice(Path path, boolean devdax, int blockSize, long mapAlign, long hugeAlign, long size,
                        long devMajor, long devMinor, long ino, long rdevMajor, long rdevMinor) {

    /** Asks the mount through {@code fd}, a descriptor of any file or directory on it. */
    static DaxDevice ask(int fd) throws LeaseException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(LeaseProtocol.MESSAGE_SIZE, 8);
            LeaseProtocol.header(m, LeaseProtocol.DEVICE, LeaseProtocol.HEADER_SIZE);
            Native.ioctl(fd, LeaseProtocol.ioctlNumber(LeaseProtocol.DEVICE), m, "DEVICE");
            int pathLength = m.get(LeaseProtocol.U32, LeaseProtocol.DEV_PATH_LENGTH);
            byte[] path = m.asSlice(LeaseProtocol.DEV_PATH, pathLength).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            return new DaxDevice(Path.of(new String(path, StandardCharsets.UTF_8)),
                    m.get(LeaseProtocol.U32, LeaseProtocol.DEV_KIND) == LeaseProtocol.KIND_DEVDAX,
                    m.get(LeaseProtocol.U32, LeaseProtocol.DEV_BLOCK_SIZE),
                    m.get(LeaseProtocol.U64, LeaseProtocol.DEV_MAP_ALIGN),
                    m.get(LeaseProtocol.U64, LeaseProtocol.DEV_HUGE_ALIGN),
                    m.get(LeaseProtocol.U64, LeaseProtocol.DEV_SIZE),
                    Integer.toUnsignedLong(m.get(LeaseProtocol.U32, LeaseProtocol.DEV_DEV_MAJOR)),
                    Integer.toUnsignedLong(m.get(LeaseProtocol.U32, LeaseProtocol.DEV_DEV_MINOR)),
                    m.get(LeaseProtocol.U64, LeaseProtocol.DEV_INO),
                    Integer.toUnsignedLong(m.get(LeaseProtocol.U32, LeaseProtocol.DEV_RDEV_MAJOR)),
                    Integer.toUnsignedLong(m.get(LeaseProtocol.U32, LeaseProtocol.DEV_RDEV_MINOR)));
        }
    }

    /** Asks the mount that holds {@code fileOrDirectory}. */
    public static DaxDevice of(Path fileOrDirectory) throws LeaseException {
        int fd = Native.open(fileOrDirectory.toString(), Native.O_RDONLY);
        try {
            return ask(fd);
        } finally {
            Native.close(fd);
        }
    }

    /** Checks that {@code fd}, the client's own descriptor of {@link #path}, is the file the daemon mapped. */
    void verify(int fd) throws LeaseException {
        long[] id = Native.identity(fd);
        boolean same = devdax ? id[3] == rdevMajor && id[4] == rdevMinor
                : id[0] == devMajor && id[1] == devMinor && id[2] == ino;
        if (!same) {
            throw new LeaseException(path + " is not the device the daxfs daemon mapped (replaced since the mount?)");
        }
    }
}
