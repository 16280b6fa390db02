package io.daxfs.lease;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.daxfs.lease.LeaseProtocol.*;

/**
 * A lease on a range of a file of a daxfs mount, with the range mapped straight from device
 * memory: {@link #segment()} reads (and, for a write lease, writes) the file's bytes where they
 * live, with no copy and no page cache (docs/leases.md).
 *
 * <pre>{@code
 * try (DaxLease lease = DaxLease.take(Path.of("/mnt/pm/data"), DaxLease.Mode.READ, 0, 0)) {
 *     MemorySegment bytes = lease.segment();   // the whole file, read-only
 *     long sum = 0;
 *     for (long i = 0; i < bytes.byteSize(); i += 8) sum += bytes.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
 *     if (lease.broken()) { ... the file was truncated or removed: take a new lease ... }
 * }
 * }</pre>
 *
 * <p>How: the file is opened through the mount (the lease belongs to that open file: closing it,
 * or the process ending, releases the lease), the mount says which device to map (DEVICE) and
 * grants the lease with its extents (LEASE, repeated if the extents do not fit one reply). The
 * client then opens the device itself - with its own credentials: that is the security
 * boundary - checks it is the file the daemon mapped, reserves one range of address space
 * (aligned to 2 MiB when the extents allow, for huge pages: then it also asks for them with
 * madvise(MADV_HUGEPAGE)) and maps each extent into place; holes of a read lease read as zeros.
 *
 * <p>Rules (docs/leases.md, "Coherence"): bytes written through the mount are in the mapping
 * when write(2) returns; a write-lease holder's stores are visible to read(2) and mmap through
 * the mount after {@link #flush()} or {@link #close()}. A truncate, hole punch, unlink or rename
 * over that frees leased blocks does not wait: it breaks the lease ({@link #broken()},
 * {@link #awaitBreak}); the mapping keeps showing the old blocks, which no other file gets
 * until this lease is closed. Size changes go through the mount.
 *
 * <p>Not thread-safe, except {@link #segment()}'s memory, which any thread may use until close.
 */
public final class DaxLease implements AutoCloseable {
    /** Read lease: the mapping is read-only. Write lease: read-write, allocated space only. */
    public enum Mode { READ, WRITE }

    /** {@code length} bytes of the file at {@code fileOffset} live at {@code deviceOffset} of the device. */
    public record Piece(long fileOffset, long deviceOffset, long length) {
    }

    private record Part(long id, long offset, long length, int flags, List<Piece> pieces) {
    }

    private static final long PAGE = 4096;

    private final Path file;
    private final Mode mode;
    private final int fd;
    private final DaxDevice device;
    private final List<Part> parts;
    private int deviceFd = -1;
    private long reservation;
    private long reservationLength;
    private Arena arena;
    private MemorySegment segment;
    private boolean closed;

    private DaxLease(Path file, Mode mode, int fd, DaxDevice device, List<Part> parts) {
        this.file = file;
        this.mode = mode;
        this.fd = fd;
        this.device = device;
        this.parts = parts;
    }

    /**
     * Leases [offset, offset+length) of {@code file} ({@code length} 0: to the end of file; the
     * range is widened to whole pages and cut at the end of file) and maps it.
     *
     * @throws LeaseException EACCES if this process may not open the device (or, for a write
     *     lease, open it for writing), ENOTTY if the mount serves no leases, ENODATA for a write
     *     lease over a hole, EINVAL for a range past the end of file
     */
    public static DaxLease take(Path file, Mode mode, long offset, long length) throws LeaseException {
        DaxLease l = grant(file, mode, offset, length);
        try {
            l.map();
            return l;
        } catch (LeaseException | RuntimeException | Error e) {
            l.close();
            throw e;
        }
    }

    /** Leases the range without mapping it: its extents and device only ({@code daxfs lease}). */
    public static DaxLease describe(Path file, Mode mode, long offset, long length) throws LeaseException {
        return grant(file, mode, offset, length);
    }

    private static DaxLease grant(Path file, Mode mode, long offset, long length) throws LeaseException {
        int fd = Native.open(file.toString(), mode == Mode.WRITE ? Native.O_RDWR : Native.O_RDONLY);
        List<Part> parts = new ArrayList<>();
        try {
            DaxDevice device = DaxDevice.ask(fd);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment m = a.allocate(MESSAGE_SIZE, 8);
                long at = offset;
                long end = length == 0 ? 0 : offset + length;
                while (true) {
                    header(m, LEASE, LQ_SIZE);
                    m.set(U32, LQ_MODE, mode == Mode.WRITE ? MODE_WRITE : MODE_READ);
                    m.set(U32, LQ_FLAGS, 0);
                    m.set(U64, LQ_OFFSET, at);
                    m.set(U64, LQ_LENGTH, end == 0 ? 0 : end - at);
                    Native.ioctl(fd, ioctlNumber(LEASE), m, "LEASE of " + file);
                    Part p = part(m);
                    parts.add(p);
                    at = p.offset + p.length;
                    if ((p.flags & PARTIAL) == 0 || (end != 0 && at >= end)) {
                        break;
                    }
                }
            }
            return new DaxLease(file, mode, fd, device, parts);
        } catch (LeaseException | RuntimeException | Error e) {
            Native.close(fd); // releases whatever was granted
            throw e;
        }
    }

    private static Part part(MemorySegment m) {
        int count = m.get(U32, LR_COUNT);
        List<Piece> pieces = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long at = LR_PIECES + (long) i * PIECE_SIZE;
            pieces.add(new Piece(m.get(U64, at), m.get(U64, at + 8), m.get(U64, at + 16)));
        }
        return new Part(m.get(U64, LR_ID), m.get(U64, LR_OFFSET), m.get(U64, LR_LENGTH), m.get(U32, LR_FLAGS),
                List.copyOf(pieces));
    }

    /** Opens the device, checks it, and maps every piece into one reserved range. */
    private void map() throws LeaseException {
        deviceFd = Native.open(device.path().toString(), mode == Mode.WRITE ? Native.O_RDWR : Native.O_RDONLY);
        device.verify(deviceFd);
        long length = length();
        boolean congruent = parts.stream().allMatch(p -> (p.flags & CONGRUENT) != 0);
        long align = Math.max(device.mapAlign(), congruent ? device.hugeAlign() : PAGE);
        reservationLength = length + align;
        reservation = Native.mmap(0, reservationLength, Native.PROT_READ,
                Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_NORESERVE, -1, 0);
        long want = Math.floorMod(offset(), align);
        long base = reservation + Math.floorMod(want - reservation, align);
        int prot = mode == Mode.WRITE ? Native.PROT_READ | Native.PROT_WRITE : Native.PROT_READ;
        for (Piece p : pieces()) {
            long at = base + (p.fileOffset() - offset());
            long a = device.mapAlign();
            if (p.deviceOffset() % a != 0 || p.length() % a != 0 || at % a != 0) {
                throw new LeaseException("extent " + p + " cannot be mapped in place: " + device.path()
                        + " maps in units of " + a + " bytes (device-DAX); see docs/leases.md");
            }
            Native.mmap(at, p.length(), prot, Native.MAP_SHARED | Native.MAP_FIXED, deviceFd, p.deviceOffset());
            if (congruent) {
                // Ask for 2 MiB pages: an image on a tmpfs mounted huge=advise gives them only to
                // mappings that ask (huge=always|within_size and /dev/dax do it anyway). Best
                // effort: a kernel without transparent huge pages refuses, and that changes nothing.
                Native.madvise(at, p.length(), Native.MADV_HUGEPAGE);
            }
        }
        arena = Arena.ofShared();
        MemorySegment s = MemorySegment.ofAddress(base).reinterpret(length, arena, null);
        segment = mode == Mode.WRITE ? s : s.asReadOnly();
    }

    /** The leased range mapped from device memory; read-only for a read lease. Valid until {@link #close()}. */
    public MemorySegment segment() {
        if (segment == null) {
            throw new IllegalStateException(closed ? "closed" : "not mapped (DaxLease.describe)");
        }
        return segment;
    }

    public Path file() {
        return file;
    }

    public Mode mode() {
        return mode;
    }

    public DaxDevice device() {
        return device;
    }

    /** Start of the leased range in the file. */
    public long offset() {
        return parts.getFirst().offset;
    }

    /** Bytes leased (the range may be shorter than asked: it ends at the end of file). */
    public long length() {
        return parts.getLast().offset + parts.getLast().length - parts.getFirst().offset;
    }

    /** The extents of the range, in file order; file ranges without one are holes. */
    public List<Piece> pieces() {
        List<Piece> all = new ArrayList<>();
        for (Part p : parts) {
            all.addAll(p.pieces);
        }
        return all;
    }

    /** The daemon's numbers of this lease (one per LEASE call it took). */
    public List<Long> ids() {
        return parts.stream().map(Part::id).toList();
    }

    /** True if every extent can be mapped with 2 MiB pages (file and device offsets congruent). */
    public boolean hugeAligned() {
        return parts.stream().allMatch(p -> (p.flags & CONGRUENT) != 0);
    }

    /** Whether a truncate, punch, unlink or rename over has freed blocks of this lease (asks the daemon). */
    public boolean broken() throws LeaseException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(MESSAGE_SIZE, 8);
            long after = 0;
            while (true) {
                header(m, STATUS, Q_SIZE);
                m.set(U64, Q_AFTER, after);
                Native.ioctl(fd, ioctlNumber(STATUS), m, "STATUS");
                int count = m.get(U32, ST_COUNT);
                for (int i = 0; i < count; i++) {
                    long at = ST_RECORDS + (long) i * ST_RECORD_SIZE;
                    after = m.get(U64, at + STR_ID);
                    if ((m.get(U32, at + STR_STATE) & STATE_BROKEN) != 0 && ids().contains(after)) {
                        return true;
                    }
                }
                if ((m.get(U32, H_FLAGS) & MORE) == 0) {
                    return false;
                }
            }
        }
    }

    /**
     * Waits up to {@code timeout} for a break (poll(2) for POLLPRI on the lease's descriptor: the
     * daemon wakes it when a lease of it breaks). Returns whether one happened.
     */
    public boolean awaitBreak(Duration timeout) throws LeaseException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            int revents = Native.poll(fd, Native.POLLPRI, (int) Math.max(0, Math.min(Integer.MAX_VALUE, left)));
            if ((revents & Native.POLLPRI) != 0) {
                return true;
            }
            if (left <= 0) {
                return false;
            }
        }
    }

    /**
     * Makes this holder's stores durable and visible through the mount: the daemon writes the
     * leased device ranges back, moves the file's mtime, and drops the mount's cached pages of
     * the range (NOTIFY_INVAL_INODE) so read(2) and mmap of the mount see them.
     */
    public void flush() throws LeaseException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(MESSAGE_SIZE, 8);
            for (long id : ids()) {
                header(m, FLUSH, Q_SIZE);
                m.set(U64, Q_ID, id);
                Native.ioctl(fd, ioctlNumber(FLUSH), m, "FLUSH");
            }
        }
    }

    /**
     * Unmaps the range, then releases the lease (which, for a write lease, flushes as
     * {@link #flush()} does) and closes the descriptors. The segment is invalid afterwards.
     * Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (arena != null) {
            arena.close();
            segment = null;
        }
        if (reservation != 0) {
            Native.munmap(reservation, reservationLength);
        }
        if (deviceFd >= 0) {
            Native.close(deviceFd);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(MESSAGE_SIZE, 8);
            header(m, UNLEASE, Q_SIZE);
            m.set(U64, Q_ID, 0);
            Native.ioctl(fd, ioctlNumber(UNLEASE), m, "UNLEASE");
        } catch (LeaseException e) {
            // closing the descriptor below releases the leases anyway
        } finally {
            Native.close(fd);
        }
    }

    @Override
    public String toString() {
        return mode.name().toLowerCase() + " lease of " + file + " [" + offset() + ", " + (offset() + length()) + ") on "
                + device.path() + ", " + pieces().size() + " extents";
    }
}
