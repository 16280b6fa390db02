package io.daxfs.devdax;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A mapped, locked device or image, made by {@link DeviceOpener#open}. Owns three resources:
 * the arena of the mapping, the file descriptor that carries the lock, and the region over
 * the mapping. {@link #close()} (or {@link PmemRegion#close()} on the region, which is the
 * same) unmaps first and then closes the descriptor, which releases the lock - so no other
 * process can take the image while this one can still store into it.
 */
public final class OpenedDevice implements AutoCloseable {
    private final Path path;
    private final DeviceKind kind;
    private final long alignment;
    private final boolean readOnly;
    private final boolean created;
    private final String mappingDescription;
    private final Arena arena;
    private final int fd;
    private final CloseGuard guard;
    private final MappedRegion region;

    /**
     * Takes ownership of {@code arena} (holding {@code segment}) and {@code fd}; the caller
     * closes neither from here on.
     */
    OpenedDevice(Path path, DeviceKind kind, long alignment, boolean readOnly, boolean created,
                 String mappingDescription, Arena arena, int fd, MemorySegment segment,
                 Persistence persistence, HolePuncher puncher, boolean privateMapping) {
        this.path = path;
        this.kind = kind;
        this.alignment = alignment;
        this.readOnly = readOnly;
        this.created = created;
        this.mappingDescription = mappingDescription;
        this.arena = arena;
        this.fd = fd;
        this.guard = new CloseGuard(path.toString());
        this.region = new MappedRegion(segment, readOnly && !privateMapping, privateMapping, persistence, puncher,
                kind == DeviceKind.REGULAR_FILE && !readOnly ? new FileIo(fd) : null, Posix.pageSize(), guard,
                this::close);
    }

    /** The mapping. Valid until {@link #close()}. */
    public PmemRegion region() {
        return region;
    }

    /** The path as given to {@link DeviceOpener#open}. */
    public Path path() {
        return path;
    }

    public DeviceKind kind() {
        return kind;
    }

    /** The mapping granule: 4096 for a file, the sysfs {@code align} (default 2 MiB) for a device. */
    public long alignment() {
        return alignment;
    }

    /** Bytes mapped: the whole file or device. */
    public long size() {
        return region.size();
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** True when this open created the image file (it is all zeros: ready to be formatted). */
    public boolean created() {
        return created;
    }

    public PersistenceMode persistenceMode() {
        return region.persistenceMode();
    }

    /**
     * For the user: how the target is mapped and how flushes work, e.g.
     * "shared file mapping (MAP_SYNC unsupported here): msync".
     */
    public String mappingDescription() {
        return mappingDescription;
    }

    /** Unmaps, then releases the lock. Idempotent; later stores throw IllegalStateException. */
    @Override
    public void close() {
        if (!guard.close()) {
            return;
        }
        try {
            arena.close();
        } finally {
            try {
                Posix.close(fd);
            } catch (ErrnoException e) {
                // Linux releases the descriptor even when close reports an error.
            }
        }
    }

    @Override
    public String toString() {
        return "OpenedDevice[" + path + ", " + kind + ", " + ImageFiles.formatSize(size()) + ", "
                + mappingDescription + (guard.isClosed() ? ", closed" : "") + "]";
    }
}
