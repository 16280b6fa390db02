package io.daxfs.devdax;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Maps a file descriptor with our own mmap(2) downcall - the only way to map a /dev/dax
 * character device, which {@link java.nio.channels.FileChannel#map} refuses. Works on any
 * mappable descriptor, in particular a regular file, which is how the tests exercise this path
 * for real on a machine without persistent memory.
 *
 * <p>A writable mapping is first tried with {@code MAP_SHARED_VALIDATE | MAP_SYNC}: the kernel
 * then guarantees that the page tables never point at memory that is not persistent (needed on
 * a DAX file system; device-DAX supports it as well), and refuses with EOPNOTSUPP where it
 * cannot (tmpfs, ext4 without DAX, old kernels), in which case a plain {@code MAP_SHARED}
 * mapping is made and the refusal is recorded.
 *
 * <p>The segment belongs to the given arena: closing the arena munmaps it, and after that
 * every access through the segment throws {@link IllegalStateException}.
 */
final class MmapMapping {

    /**
     * @param segment     the whole mapping, read-only when mapped read-only
     * @param sync        true when MAP_SYNC was accepted
     * @param syncRefusal why MAP_SYNC was not used (null when {@code sync}, or for read-only)
     */
    record Mapping(MemorySegment segment, boolean sync, String syncRefusal) {
    }

    private MmapMapping() {
    }

    /**
     * Maps {@code length} bytes of {@code fd} from offset 0. The descriptor may be closed
     * afterwards: the mapping holds its own reference to the file. The caller guarantees that
     * the file is at least {@code length} bytes long (touching a page past its end raises
     * SIGBUS, which kills the JVM).
     */
    static Mapping map(int fd, long length, boolean readOnly, Arena arena) throws ErrnoException {
        return map(fd, length, readOnly, false, arena);
    }

    /**
     * As {@link #map(int, long, boolean, Arena)}; with {@code privateCopy}, a writable
     * MAP_PRIVATE mapping (also of a descriptor opened read-only): stores never reach the file.
     */
    static Mapping map(int fd, long length, boolean readOnly, boolean privateCopy, Arena arena)
            throws ErrnoException {
        if (length <= 0) {
            throw new IllegalArgumentException("mapping length must be positive: " + length);
        }
        int prot = readOnly && !privateCopy ? Posix.PROT_READ : Posix.PROT_READ | Posix.PROT_WRITE;
        long address;
        boolean sync = false;
        String refusal = null;
        if (privateCopy) {
            address = Posix.mmap(length, prot, Posix.MAP_PRIVATE, fd);
        } else if (readOnly) {
            address = Posix.mmap(length, prot, Posix.MAP_SHARED, fd);
        } else {
            long syncAddress;
            try {
                syncAddress = Posix.mmap(length, prot, Posix.MAP_SHARED_VALIDATE | Posix.MAP_SYNC, fd);
                sync = true;
            } catch (ErrnoException e) {
                if (e.errno() != Posix.EOPNOTSUPP && e.errno() != Posix.EINVAL) {
                    throw e;
                }
                refusal = e.reasonText();
                syncAddress = Posix.mmap(length, prot, Posix.MAP_SHARED, fd);
            }
            address = syncAddress;
        }
        long mappedAddress = address;
        MemorySegment segment;
        try {
            segment = MemorySegment.ofAddress(mappedAddress).reinterpret(length, arena, ignored -> {
                try {
                    Posix.munmap(mappedAddress, length);
                } catch (ErrnoException e) {
                    // Nothing sensible to do while an arena closes; the range stays mapped
                    // until the process exits, which is harmless.
                }
            });
        } catch (RuntimeException e) {
            Posix.munmap(mappedAddress, length); // the arena was already closed
            throw e;
        }
        return new Mapping(readOnly && !privateCopy ? segment.asReadOnly() : segment, sync, refusal);
    }
}
