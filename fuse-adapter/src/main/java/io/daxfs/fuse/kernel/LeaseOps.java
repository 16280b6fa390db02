package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;
import io.daxfs.core.data.Lease;
import io.daxfs.core.lease.Leases;
import io.daxfs.fuse.vfs.ProcGroups;
import io.daxfs.lease.LeaseProtocol;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static io.daxfs.lease.LeaseProtocol.*;

/**
 * Leases over the FUSE protocol (docs/leases.md): IOCTL carries the lease commands of
 * {@link LeaseProtocol}, and its STATS command for {@link StatsOps} (docs/stats.md) (restricted ioctls: the kernel copies the caller's 4096-byte message in
 * and the reply out), POLL tells a holder that a lease of its open file broke (POLLPRI), and
 * RELEASE of an open file drops its leases.
 *
 * <p>Trust: a lease hands the caller device offsets, and the device holds every file. So the
 * daemon grants DEVICE, LEASE and LIST only to a caller whose uid, gid and groups (from the
 * request header and /proc) may open the device itself by its mode bits - for reading, and for
 * writing too for a write lease - and a write lease only on a descriptor opened read-write.
 * Everyone else gets EACCES and learns nothing. The client then opens the device with its own
 * credentials: the kernel's check of that open is the real boundary; the daemon's only keeps
 * it from handing out what the caller could not use.
 *
 * <p>Breaking: fs-core breaks a lease when a free of its blocks becomes durable and calls back
 * here ({@link #broke}); if the holder polls its descriptor, the kernel's poll handle gets a
 * FUSE_NOTIFY_POLL at once. Flush or release of a write lease writes its device ranges back,
 * moves mtime and invalidates the mount's cached pages of the range ({@link LeaseNotifier}).
 */
final class LeaseOps {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseOps.class);
    /** poll(2) bits: what a regular file always is, and the lease-broken signal. */
    static final int POLLIN = 0x1;
    static final int POLLPRI = 0x2;
    static final int POLLOUT = 0x4;
    static final int POLLRDNORM = 0x40;
    static final int POLLWRNORM = 0x100;
    static final int DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    private static final long HUGE = 2L << 20;

    private final DaxFileSystem fs;
    private final FileHandles handles;
    private final LeaseDevice device;
    private final StatsOps stats;
    private final LeaseNotifier notifier = new LeaseNotifier();
    private volatile String mountPoint = "";

    /**
     * {@code device} null: this daemon serves no leases (every lease command is ENOTTY);
     * {@code stats} answers the STATS command either way.
     */
    LeaseOps(DaxFileSystem fs, FileHandles handles, LeaseDevice device, StatsOps stats) {
        this.fs = fs;
        this.handles = handles;
        this.device = device;
        this.stats = stats;
    }

    /** From now on notifications go to {@code channel}; {@code mountPoint} names holders' files in listings. */
    void connect(FuseChannel channel, String mountPoint) {
        this.mountPoint = mountPoint;
        notifier.connect(channel);
    }

    void close() {
        notifier.close();
    }

    // ------------------------------------------------------------------ POLL

    /**
     * POLL: a regular file is always readable and writable; POLLPRI when a lease of this open
     * file is broken. With FUSE_POLL_SCHEDULE_NOTIFY the kernel waits for a FUSE_NOTIFY_POLL with
     * its handle: remembered before the state is read, so a break after the read notifies.
     */
    void poll(Request r, Reply out) {
        FileHandles.Handle h = handles.get(r.argLong(POLL_IN_FH));
        int revents = DEFAULT_POLLMASK;
        if (h != null) {
            if ((r.argInt(POLL_IN_FLAGS) & POLL_SCHEDULE_NOTIFY) != 0) {
                h.pollHandle = r.argLong(POLL_IN_KH);
            }
            if (h.anyBroken()) {
                revents |= POLLPRI;
            }
        }
        out.putInt(0, revents);
        out.putInt(4, 0);
        out.send(POLL_OUT_SIZE);
    }

    /** fs-core broke a lease of {@code h}: wake its pollers. Runs on the freeing thread; must not block. */
    private void broke(FileHandles.Handle h) {
        LOG.debug("a lease of open file {} (inode {}) broke", h.fh, h.ino);
        notifier.wake(h.pollHandle);
    }

    // ------------------------------------------------------------------ RELEASE

    /** The open file went (last close, exit, kill -9): its leases go, write leases flushed first. */
    void released(FileHandles.Handle h) {
        for (Lease l : h.take(0)) {
            finish(l);
        }
    }

    /** Releases one lease: a write lease is flushed and its range invalidated in the mount's cache. */
    private void finish(Lease l) {
        if (l.mode() == Lease.Mode.WRITE) {
            fs.leases().flush(l);
            l.close();
            notifier.invalidate(l.ino(), l.offset(), l.length());
        } else {
            l.close();
        }
    }

    // ------------------------------------------------------------------ IOCTL

    void ioctl(Request r, Reply out) {
        int flags = r.argInt(IOCTL_IN_FLAGS);
        int command = LeaseProtocol.commandOf(r.argInt(IOCTL_IN_CMD));
        if (device == null && command != STATS || command < 1 || command > LAST_COMMAND
                || (flags & IOCTL_UNRESTRICTED) != 0) {
            throw new FsException(Errno.ENOTTY, "ioctl " + Integer.toHexString(r.argInt(IOCTL_IN_CMD)));
        }
        if (r.argInt(IOCTL_IN_IN_SIZE) != MESSAGE_SIZE || r.argInt(IOCTL_IN_OUT_SIZE) != MESSAGE_SIZE
                || r.argLength() < IOCTL_IN_SIZE + MESSAGE_SIZE) {
            throw new FsException(Errno.EINVAL, "lease message of the wrong size");
        }
        MemorySegment in = r.buffer().asSlice(Request.absolute(IOCTL_IN_SIZE), MESSAGE_SIZE);
        if (in.get(U32, H_MAGIC) != MAGIC || in.get(U16, H_VERSION) != VERSION || in.get(U16, H_COMMAND) != command) {
            throw new FsException(Errno.EINVAL, "not a daxfs message of version " + VERSION);
        }
        // The reply is fuse_ioctl_out, then the message; a 4 KiB max_write leaves room for less.
        int limit = (int) Math.min(MESSAGE_SIZE, out.capacity() - IOCTL_OUT_SIZE);
        MemorySegment m = out.body().asSlice(Reply.bodyOffset() + IOCTL_OUT_SIZE, limit);
        m.fill((byte) 0);
        boolean dir = (flags & IOCTL_DIR) != 0;
        long fh = r.argLong(IOCTL_IN_FH);
        int length = switch (command) {
            case DEVICE -> device(r, m);
            case LEASE -> lease(r, in, m, dir, fh);
            case UNLEASE, LeaseProtocol.FLUSH -> release(in, m, open(dir, fh), command == UNLEASE);
            case STATUS -> status(in, m, open(dir, fh));
            case STATS -> stats.stats(in, m);
            default -> list(r, in, m, dir);
        };
        m.set(U32, H_MAGIC, MAGIC);
        m.set(U16, H_VERSION, (short) VERSION);
        m.set(U16, H_COMMAND, (short) command);
        m.set(U32, H_LENGTH, length);
        out.ioctlDone(length);
    }

    private FileHandles.Handle open(boolean dir, long fh) {
        if (dir) {
            throw new FsException(Errno.EISDIR, "leases belong to open regular files");
        }
        FileHandles.Handle h = handles.get(fh);
        if (h == null) {
            throw new FsException(Errno.EBADF, "no open file " + fh);
        }
        return h;
    }

    private void requireDeviceAccess(Request r, boolean write) {
        int pid = r.pid();
        int[] groups = r.uid() == 0 ? new int[0] : ProcGroups.of(pid);
        if (!device.mayOpen(r.uid(), r.gid(), groups, write)) {
            throw new FsException(Errno.EACCES, "uid " + r.uid() + " may not open " + device.path()
                    + (write ? " for writing" : ""));
        }
    }

    private int device(Request r, MemorySegment m) {
        requireDeviceAccess(r, false);
        byte[] path = device.path().toString().getBytes(StandardCharsets.UTF_8);
        if (DEV_PATH + path.length + 1 > m.byteSize()) {
            throw new FsException(Errno.ENAMETOOLONG, "device path of " + path.length + " bytes");
        }
        m.set(U32, DEV_KIND, device.devdax() ? KIND_DEVDAX : KIND_FILE);
        m.set(U32, DEV_BLOCK_SIZE, 4096);
        m.set(U64, DEV_MAP_ALIGN, device.mapAlign());
        m.set(U64, DEV_HUGE_ALIGN, HUGE);
        m.set(U64, DEV_SIZE, device.size());
        m.set(U32, DEV_DEV_MAJOR, (int) device.devMajor());
        m.set(U32, DEV_DEV_MINOR, (int) device.devMinor());
        m.set(U64, DEV_INO, device.ino());
        m.set(U32, DEV_RDEV_MAJOR, (int) device.rdevMajor());
        m.set(U32, DEV_RDEV_MINOR, (int) device.rdevMinor());
        m.set(U32, DEV_PATH_LENGTH, path.length);
        MemorySegment.copy(path, 0, m, java.lang.foreign.ValueLayout.JAVA_BYTE, DEV_PATH, path.length);
        return DEV_PATH + path.length + 1;
    }

    private int lease(Request r, MemorySegment in, MemorySegment m, boolean dir, long fh) {
        FileHandles.Handle h = open(dir, fh);
        int modeCode = in.get(U32, LQ_MODE);
        if (modeCode != MODE_READ && modeCode != MODE_WRITE || in.get(U32, LQ_FLAGS) != 0) {
            throw new FsException(Errno.EINVAL, "lease mode " + modeCode);
        }
        Lease.Mode mode = modeCode == MODE_WRITE ? Lease.Mode.WRITE : Lease.Mode.READ;
        if (mode == Lease.Mode.WRITE ? !h.readWrite() : !h.readable()) {
            throw new FsException(Errno.EACCES, "a " + mode.name().toLowerCase() + " lease needs a descriptor opened "
                    + (mode == Lease.Mode.WRITE ? "read-write" : "for reading"));
        }
        requireDeviceAccess(r, mode == Lease.Mode.WRITE);
        long offset = in.get(U64, LQ_OFFSET);
        long length = in.get(U64, LQ_LENGTH);
        int maxPieces = (int) ((m.byteSize() - LR_PIECES) / PIECE_SIZE);
        int tgid = Holders.tgid(r.pid());
        Lease l = fs.leases().take(h.ino, offset, length, mode, maxPieces, tgid,
                Holders.pathOf(tgid, h.ino, mountPoint), () -> broke(h));
        h.add(l);
        List<Lease.Piece> pieces = l.pieces();
        boolean congruent = true;
        for (int i = 0; i < pieces.size(); i++) {
            Lease.Piece p = pieces.get(i);
            long at = LR_PIECES + (long) i * PIECE_SIZE;
            m.set(U64, at, p.fileOffset());
            m.set(U64, at + 8, p.deviceOffset());
            m.set(U64, at + 16, p.length());
            congruent &= Math.floorMod(p.fileOffset() - p.deviceOffset(), HUGE) == 0;
        }
        m.set(U64, LR_ID, l.id());
        m.set(U64, LR_OFFSET, l.offset());
        m.set(U64, LR_LENGTH, l.length());
        m.set(U32, LR_MODE, modeCode);
        m.set(U32, LR_COUNT, pieces.size());
        m.set(U32, LR_FLAGS, (congruent ? CONGRUENT : 0) | (l.partial() ? PARTIAL : 0));
        LOG.debug("granted {} to pid {}", l, tgid);
        return LR_PIECES + pieces.size() * PIECE_SIZE;
    }

    /** UNLEASE (or FLUSH) of lease {@code id} of this open file, or of all of them for 0. */
    private int release(MemorySegment in, MemorySegment m, FileHandles.Handle h, boolean unlease) {
        long id = in.get(U64, Q_ID);
        List<Lease> leases = unlease ? h.take(id) : h.find(id);
        if (id != 0 && leases.isEmpty()) {
            throw new FsException(Errno.ENOENT, "no lease " + id + " on this open file");
        }
        for (Lease l : leases) {
            if (unlease) {
                finish(l);
            } else {
                fs.leases().flush(l);
                if (l.mode() == Lease.Mode.WRITE) {
                    notifier.invalidate(l.ino(), l.offset(), l.length());
                }
            }
        }
        m.set(U32, R_DONE, leases.size());
        return R_SIZE;
    }

    private int status(MemorySegment in, MemorySegment m, FileHandles.Handle h) {
        long after = in.get(U64, Q_AFTER);
        int count = 0;
        int broken = 0;
        boolean more = false;
        for (Lease l : h.leases()) {
            broken += l.broken() ? 1 : 0;
            if (l.id() <= after) {
                continue;
            }
            long at = ST_RECORDS + (long) count * ST_RECORD_SIZE;
            if (at + ST_RECORD_SIZE > m.byteSize()) {
                more = true;
                continue;
            }
            m.set(U64, at + STR_ID, l.id());
            m.set(U64, at + STR_OFFSET, l.offset());
            m.set(U64, at + STR_LENGTH, l.length());
            m.set(U32, at + STR_MODE, l.mode() == Lease.Mode.WRITE ? MODE_WRITE : MODE_READ);
            m.set(U32, at + STR_STATE, l.broken() ? STATE_BROKEN : 0);
            count++;
        }
        m.set(U32, ST_COUNT, count);
        m.set(U32, ST_BROKEN, broken);
        m.set(U32, H_FLAGS, more ? MORE : 0);
        return ST_RECORDS + count * ST_RECORD_SIZE;
    }

    /** LIST, on the mount's root directory: every lease of the mount, by number, from the cursor. */
    private int list(Request r, MemorySegment in, MemorySegment m, boolean dir) {
        if (!dir || r.nodeid() != ROOT_ID) {
            throw new FsException(Errno.EINVAL, "LIST is asked of the mount's root directory");
        }
        requireDeviceAccess(r, false);
        long after = in.get(U64, Q_AFTER);
        List<Leases.Info> all = fs.leases().list();
        long at = LS_RECORDS;
        int count = 0;
        boolean more = false;
        for (Leases.Info i : all) {
            if (i.id() <= after) {
                continue;
            }
            byte[] path = i.holder() == null ? new byte[0] : i.holder().getBytes(StandardCharsets.UTF_8);
            if (path.length > 1024) {
                path = java.util.Arrays.copyOf(path, 1024);
            }
            int size = listRecordLength(path.length);
            if (at + size > m.byteSize()) {
                more = true;
                break;
            }
            m.set(U64, at + LSR_ID, i.id());
            m.set(U64, at + LSR_INO, i.ino());
            m.set(U64, at + LSR_OFFSET, i.offset());
            m.set(U64, at + LSR_LENGTH, i.length());
            m.set(U64, at + LSR_AGE_NANOS, i.ageNanos());
            m.set(U64, at + LSR_BUSY_BYTES, i.busyBytes());
            m.set(U32, at + LSR_PID, i.holderPid());
            m.set(U32, at + LSR_STATE, (i.broken() ? STATE_BROKEN : 0) | (i.mode() == Lease.Mode.WRITE ? STATE_WRITE : 0));
            m.set(U16, at + LSR_RECORD_LENGTH, (short) size);
            m.set(U16, at + LSR_PATH_LENGTH, (short) path.length);
            MemorySegment.copy(path, 0, m, java.lang.foreign.ValueLayout.JAVA_BYTE, at + LSR_PATH, path.length);
            at += size;
            count++;
        }
        m.set(U32, LS_COUNT, count);
        m.set(U32, LS_TOTAL, all.size());
        m.set(U64, LS_HELD_BUSY, fs.leases().heldBusyBytes());
        m.set(U32, H_FLAGS, more ? MORE : 0);
        return (int) at;
    }

    /** Who holds a lease: the process (not the thread) and the path it opened the file by. */
    static final class Holders {
        private Holders() {
        }

        /** The process id of thread {@code tid} (FUSE passes the calling thread's id). */
        static int tgid(int tid) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(tid), "status"))) {
                    if (line.startsWith("Tgid:")) {
                        return Integer.parseInt(line.substring(5).strip());
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone already: the thread id is all there is
            }
            return tid;
        }

        /**
         * The path by which process {@code pid} has inode {@code ino} of this mount open, from
         * /proc/PID/fdinfo (its "ino:" line; nothing there asks this daemon anything) and the
         * descriptor's link; "" if not found among its first 4096 descriptors.
         */
        static String pathOf(int pid, long ino, String mountPoint) {
            Path fds = Path.of("/proc", Integer.toString(pid), "fd");
            int seen = 0;
            try (DirectoryStream<Path> s = Files.newDirectoryStream(fds)) {
                for (Path fd : s) {
                    if (++seen > 4096) {
                        break;
                    }
                    Path info = Path.of("/proc", Integer.toString(pid), "fdinfo", fd.getFileName().toString());
                    try {
                        boolean match = false;
                        for (String line : Files.readAllLines(info)) {
                            if (line.startsWith("ino:") && Long.parseLong(line.substring(4).strip()) == ino) {
                                match = true;
                                break;
                            }
                        }
                        if (match) {
                            String target = Files.readSymbolicLink(fd).toString();
                            if (mountPoint.isEmpty() || target.startsWith(mountPoint)) {
                                return target;
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        // closed meanwhile: next
                    }
                }
            } catch (IOException | RuntimeException e) {
                // no such process, or /proc unreadable
            }
            return "";
        }
    }
}
