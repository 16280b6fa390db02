package io.daxfs.devdax;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;

import io.daxfs.devdax.DeviceException.Reason;
import jdk.nio.mapmode.ExtendedMapMode;

/**
 * Opens, locks and maps the target of a mount: a device-DAX character device or a regular
 * "pmem-backed" image file.
 *
 * <p>Order of work, chosen so that a failure writes nothing and leaks nothing:
 * <ol>
 *   <li>stat the path and decide by its type; directories, FIFOs, block devices and
 *       character devices that sysfs does not describe as device-DAX are refused before they
 *       are opened (opening some devices has side effects);</li>
 *   <li>(missing file with {@code createSize}) check the size, then create it sparse;</li>
 *   <li>open(2) our own descriptor and check, through {@code /proc/self/fd}, that it is the
 *       file we inspected (the path may have been replaced in between);</li>
 *   <li>take the lock on that descriptor;</li>
 *   <li>check the size (after the lock, so no cooperating process is resizing it);</li>
 *   <li>map, and only then hand everything to an {@link OpenedDevice}.</li>
 * </ol>
 * Any failure closes what was opened so far, and deletes the image if this call created it.
 *
 * <p><b>The lock</b> is an open-file-description lock (fcntl F_OFD_SETLK) on the whole file,
 * exclusive for read-write, shared for read-only. It conflicts with the same lock from any
 * other process and from any other open in this JVM, and with classic POSIX locks such as
 * {@link FileChannel#tryLock()} taken elsewhere. We do not use {@code FileChannel.tryLock}
 * itself: its locks are per process, the JDK can only report a same-JVM conflict by its own
 * table, and closing <em>any</em> descriptor of the file in this process - including the one a
 * second, refused open just made - silently drops the lock (see {@link java.nio.channels.FileLock}).
 * An OFD lock lives exactly as long as our descriptor.
 */
public final class DeviceOpener {
    /** A regular image must be a whole number of these. */
    static final long FILE_ALIGNMENT = ImageFiles.SIZE_GRANULE;

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFSOCK = 0140000;

    private final SysfsProbe sysfs;

    /** @param sysfs where device geometry is read; tests pass a fake tree */
    DeviceOpener(SysfsProbe sysfs) {
        this.sysfs = Objects.requireNonNull(sysfs, "sysfs");
    }

    /**
     * Opens {@code path} as described in the class comment.
     *
     * @throws DeviceException with a message naming the path; nothing has been written and
     *                         nothing is left open
     */
    public static OpenedDevice open(Path path, DeviceOptions options) throws DeviceException {
        return new DeviceOpener(SysfsProbe.system()).openTarget(path, options);
    }

    OpenedDevice openTarget(Path path, DeviceOptions options) throws DeviceException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        checkPlatform();
        Stat target = stat(path);
        boolean created = false;
        if (target == null) {
            if (options.createSize() == 0) {
                throw new DeviceException(Reason.NOT_FOUND, path + " does not exist");
            }
            created = createImage(path, options);
            target = stat(path);
            if (target == null) {
                throw new DeviceException(Reason.NOT_FOUND, path + " disappeared while it was being opened");
            }
        }
        return switch (target.type()) {
            case S_IFREG -> openRegularFile(path, options, target, created);
            case S_IFCHR -> openDaxDevice(path, options, target, sysfs.probe(path,
                    SysfsProbe.major(target.rdev()), SysfsProbe.minor(target.rdev())));
            default -> throw notADevice(path, target.type());
        };
    }

    /**
     * Maps a file through the device path (our mmap downcall, cache-line write-back, zero-fill
     * release) with the given geometry instead of asking sysfs. For tests, on machines without
     * /dev/dax: a regular file then stands in for the device memory, for real.
     */
    OpenedDevice openAsDaxDevice(Path path, DeviceOptions options, SysfsProbe.Geometry geometry)
            throws DeviceException {
        checkPlatform();
        Stat target = stat(path);
        if (target == null) {
            throw new DeviceException(Reason.NOT_FOUND, path + " does not exist");
        }
        if (target.type() != S_IFREG && target.type() != S_IFCHR) {
            throw notADevice(path, target.type());
        }
        return openDaxDevice(path, options, target, geometry);
    }

    // ---------------------------------------------------------------- regular files

    /** True if {@code path} lives on tmpfs/ramfs, where msync cannot make anything durable. */
    static boolean isOnMemoryFileSystem(Path path) {
        try {
            String type = java.nio.file.Files.getFileStore(path).type();
            return type.equals("tmpfs") || type.equals("ramfs");
        } catch (java.io.IOException e) {
            return false; // unknown: keep msync, the safe choice
        }
    }

    private OpenedDevice openRegularFile(Path path, DeviceOptions options, Stat target, boolean created)
            throws DeviceException {
        int fd = openDescriptor(path, options.readOnly());
        Arena arena = null;
        boolean done = false;
        try {
            lock(path, fd, options);
            Stat opened = verifySameFile(path, fd, target);
            checkSize(path, opened.size(), FILE_ALIGNMENT, options.minimumSize());
            arena = Arena.ofShared();
            if (options.privateMapping()) {
                MmapMapping.Mapping mapping = MmapMapping.map(fd, opened.size(), true, true, arena);
                OpenedDevice device = new OpenedDevice(path, DeviceKind.REGULAR_FILE, FILE_ALIGNMENT, true, false,
                        "private copy-on-write mapping of a file opened read-only: stores stay in memory",
                        arena, fd, mapping.segment(), new Persistence.Volatile(), null, true);
                done = true;
                return device;
            }
            FileMapping mapping = mapFile(path, fd, opened.size(), options.readOnly(), arena);
            boolean onTmpfs = !mapping.sync() && isOnMemoryFileSystem(path);
            if (onTmpfs) {
                // 2 MiB pages where the tmpfs gives them: huge=always|within_size does anyway,
                // huge=advise only to mappings that ask. Best effort. Not on a disk file system,
                // where the advice would make every fault read 2 MiB ahead (docs/leases.md).
                Posix.madvise(mapping.segment().address(), opened.size(), Posix.MADV_HUGEPAGE);
            }
            Persistence persistence = onTmpfs
                    ? new Persistence.Volatile()
                    : new Persistence.Force(mapping.segment(), mapping.sync(), Posix.pageSize());
            HolePuncher puncher = options.readOnly() ? null : new HolePuncher(fd);
            OpenedDevice device = new OpenedDevice(path, DeviceKind.REGULAR_FILE, FILE_ALIGNMENT,
                    options.readOnly(), created,
                    onTmpfs ? mapping.description() + "; on tmpfs: volatile, flushes skipped" : mapping.description(),
                    arena, fd, mapping.segment(),
                    persistence, puncher, false);
            done = true;
            return device;
        } catch (ErrnoException e) {
            throw new DeviceException(Reason.IO, "cannot map " + path + " privately: " + e.reasonText(), e);
        } finally {
            if (!done) {
                cleanUp(arena, fd, created ? path : null);
            }
        }
    }

    private record FileMapping(MemorySegment segment, boolean sync, String description) {
    }

    /**
     * Maps the whole file with FileChannel.map so that {@link MemorySegment#force()} works.
     * The channel is opened through /proc/self/fd/N, i.e. on exactly the file our locked
     * descriptor has open, and is closed at once: the mapping does not need it.
     */
    private static FileMapping mapFile(Path path, int fd, long size, boolean readOnly, Arena arena)
            throws DeviceException {
        try (FileChannel channel = readOnly
                ? FileChannel.open(procFd(fd), StandardOpenOption.READ)
                : FileChannel.open(procFd(fd), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (readOnly) {
                // MAP_SYNC read-only too when the file system is DAX, so that a read-only open
                // (fsck, daxfs info) reports the persistence a read-write mount would have.
                try {
                    return new FileMapping(channel.map(ExtendedMapMode.READ_ONLY_SYNC, 0, size, arena), true,
                            "read-only MAP_SYNC shared file mapping (DAX file system)");
                } catch (UnsupportedOperationException | IOException e) {
                    return new FileMapping(channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena), false,
                            "read-only shared file mapping");
                }
            }
            String refusal;
            try {
                MemorySegment sync = channel.map(ExtendedMapMode.READ_WRITE_SYNC, 0, size, arena);
                return new FileMapping(sync, true,
                        "MAP_SYNC shared file mapping (DAX file system): cache-line write-back");
            } catch (UnsupportedOperationException e) {
                // The JDK refuses SYNC modes up front when it cannot write back cache lines.
                refusal = "MAP_SYNC unavailable: this JVM cannot write back cache lines";
            } catch (IOException e) {
                // EOPNOTSUPP: the file system is not DAX (tmpfs, ext4/xfs without -o dax).
                refusal = "Operation not supported".equals(e.getMessage())
                        ? "MAP_SYNC unsupported here" : "MAP_SYNC failed: " + e.getMessage();
            }
            MemorySegment plain = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            return new FileMapping(plain, false, "shared file mapping (" + refusal + "): msync");
        } catch (AccessDeniedException e) {
            throw new DeviceException(Reason.PERMISSION_DENIED, "permission denied: cannot map " + path, e);
        } catch (IOException e) {
            throw new DeviceException(Reason.IO, "cannot map " + path + ": " + e.getMessage(), e);
        }
    }

    /** Checks and creates a missing image; false if another process created it meanwhile. */
    private static boolean createImage(Path path, DeviceOptions options) throws DeviceException {
        long size = options.createSize();
        Path parent = path.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new DeviceException(Reason.NOT_FOUND, path + " does not exist and cannot be created: directory "
                    + parent + " does not exist");
        }
        if (size % FILE_ALIGNMENT != 0) {
            throw new DeviceException(Reason.MISALIGNED, "cannot create " + path + " with "
                    + ImageFiles.formatSize(size) + ": the size must be a multiple of the required alignment of "
                    + ImageFiles.formatSize(FILE_ALIGNMENT));
        }
        long minimum = Math.max(options.minimumSize(), FILE_ALIGNMENT);
        if (size < minimum) {
            throw new DeviceException(Reason.TOO_SMALL, "cannot create " + path + " with "
                    + ImageFiles.formatSize(size) + ": the minimum size is " + ImageFiles.formatSize(minimum));
        }
        try {
            ImageFiles.createSparse(path, size);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (AccessDeniedException e) {
            throw new DeviceException(Reason.PERMISSION_DENIED, "permission denied: cannot create " + path, e);
        } catch (IOException e) {
            throw new DeviceException(Reason.IO, "cannot create " + path + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- device-DAX

    private OpenedDevice openDaxDevice(Path path, DeviceOptions options, Stat target, SysfsProbe.Geometry geometry)
            throws DeviceException {
        if (options.privateMapping()) {
            throw new DeviceException(Reason.UNSUPPORTED, path + " is a device-DAX device, which cannot be mapped"
                    + " privately (copy-on-write)");
        }
        checkSize(path, geometry.size(), geometry.alignment(), options.minimumSize());
        int fd = openDescriptor(path, options.readOnly());
        Arena arena = null;
        boolean done = false;
        try {
            lock(path, fd, options);
            Stat opened = verifySameFile(path, fd, target);
            if (opened.type() == S_IFREG && opened.size() < geometry.size()) {
                // Only when a file stands in for the device: a page past its end would SIGBUS.
                throw new DeviceException(Reason.TOO_SMALL, path + " is too small: "
                        + ImageFiles.formatSize(opened.size()) + "; the minimum is "
                        + ImageFiles.formatSize(geometry.size()));
            }
            arena = Arena.ofShared();
            MmapMapping.Mapping mapping = MmapMapping.map(fd, geometry.size(), options.readOnly(), arena);
            Persistence persistence;
            String flushing;
            if (CacheLineWriteback.available()) {
                persistence = new Persistence.Writeback(mapping.segment().address());
                flushing = "cache-line write-back";
            } else {
                persistence = new Persistence.FenceOnly();
                flushing = "fence only (" + CacheLineWriteback.unavailableReason() + ")";
            }
            String what = opened.type() == S_IFCHR ? "device-DAX mapping" : "direct mmap of a regular file";
            String how = options.readOnly() ? "read-only" : mapping.sync() ? "MAP_SYNC"
                    : "MAP_SHARED; MAP_SYNC refused: " + mapping.syncRefusal();
            OpenedDevice device = new OpenedDevice(path, DeviceKind.DAX_DEVICE, geometry.alignment(),
                    options.readOnly(), false, what + " (" + how + "): " + flushing, arena, fd,
                    mapping.segment(), persistence, null, false);
            done = true;
            return device;
        } catch (ErrnoException e) {
            Reason reason = e.errno() == Posix.EACCES || e.errno() == Posix.EPERM ? Reason.PERMISSION_DENIED
                    : e.errno() == Posix.ENODEV ? Reason.NOT_A_DEVICE : Reason.IO;
            throw new DeviceException(reason, "cannot map " + path + ": " + e.reasonText(), e);
        } finally {
            if (!done) {
                cleanUp(arena, fd, null);
            }
        }
    }

    // ---------------------------------------------------------------- shared steps

    /** What stat says about a path or an open descriptor. {@code type} is {@code mode & S_IFMT}. */
    private record Stat(int type, long dev, long ino, long rdev, long size) {
    }

    /** Null when the path does not exist. Follows symbolic links. */
    private static Stat stat(Path path) throws DeviceException {
        try {
            Map<String, Object> a = Files.readAttributes(path, "unix:mode,dev,ino,rdev,size");
            return new Stat(((Number) a.get("mode")).intValue() & S_IFMT, ((Number) a.get("dev")).longValue(),
                    ((Number) a.get("ino")).longValue(), ((Number) a.get("rdev")).longValue(),
                    ((Number) a.get("size")).longValue());
        } catch (NoSuchFileException | NotDirectoryException e) {
            return null;
        } catch (AccessDeniedException e) {
            throw new DeviceException(Reason.PERMISSION_DENIED, "permission denied: cannot look up " + path
                    + " (no search permission on a directory on the way)", e);
        } catch (FileSystemException e) {
            if ("Not a directory".equals(e.getReason())) {
                return null;
            }
            throw new DeviceException(Reason.IO, "cannot inspect " + path + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new DeviceException(Reason.IO, "cannot inspect " + path + ": " + e.getMessage(), e);
        }
    }

    private static int openDescriptor(Path path, boolean readOnly) throws DeviceException {
        try {
            return Posix.open(path, (readOnly ? Posix.O_RDONLY : Posix.O_RDWR) | Posix.O_CLOEXEC | Posix.O_NOCTTY);
        } catch (ErrnoException e) {
            String access = readOnly ? "reading" : "reading and writing";
            throw switch (e.errno()) {
                case Posix.ENOENT -> new DeviceException(Reason.NOT_FOUND, path + " does not exist", e);
                case Posix.EACCES, Posix.EPERM -> new DeviceException(Reason.PERMISSION_DENIED,
                        "permission denied: cannot open " + path + " for " + access, e);
                case Posix.EROFS -> new DeviceException(Reason.PERMISSION_DENIED,
                        path + " is on a read-only file system: it can only be opened read-only", e);
                case Posix.EISDIR -> new DeviceException(Reason.NOT_A_DEVICE,
                        path + " is a directory, not an image file or a device-DAX device", e);
                case Posix.ENXIO, Posix.ENODEV -> new DeviceException(Reason.NOT_A_DEVICE,
                        "cannot open " + path + ": " + e.reasonText() + " (no driver bound to the device?)", e);
                case Posix.EBUSY -> new DeviceException(Reason.IN_USE,
                        path + " is busy: " + e.reasonText(), e);
                default -> new DeviceException(Reason.IO, "cannot open " + path + ": " + e.reasonText(), e);
            };
        }
    }

    private static void lock(Path path, int fd, DeviceOptions options) throws DeviceException {
        if (!options.lock()) {
            return;
        }
        boolean locked;
        try {
            locked = Posix.tryLockWholeFile(fd, options.readOnly());
        } catch (ErrnoException e) {
            throw new DeviceException(Reason.IO, "cannot lock " + path + ": " + e.reasonText(), e);
        }
        if (!locked) {
            throw new DeviceException(Reason.IN_USE, path + " is in use (mounted by another daxfs process?)");
        }
    }

    /**
     * Stats the open descriptor (through the /proc/self/fd magic link, which resolves to the
     * open file itself) and checks it is the file inspected by path before opening.
     */
    private static Stat verifySameFile(Path path, int fd, Stat expected) throws DeviceException {
        Stat opened = stat(procFd(fd));
        if (opened == null || opened.type() != expected.type() || opened.dev() != expected.dev()
                || opened.ino() != expected.ino() || opened.rdev() != expected.rdev()) {
            throw new DeviceException(Reason.IO, path + " was replaced while it was being opened; try again");
        }
        return opened;
    }

    private static void checkSize(Path path, long size, long alignment, long minimumSize) throws DeviceException {
        long minimum = Math.max(minimumSize, alignment);
        if (size < minimum) {
            throw new DeviceException(Reason.TOO_SMALL, path + " is too small: " + ImageFiles.formatSize(size)
                    + "; the minimum is " + ImageFiles.formatSize(minimum));
        }
        if (size % alignment != 0) {
            throw new DeviceException(Reason.MISALIGNED, path + " has a size of " + ImageFiles.formatSize(size)
                    + ", which is not a multiple of the required alignment of " + ImageFiles.formatSize(alignment));
        }
    }

    private static Path procFd(int fd) {
        return Path.of("/proc/self/fd/" + fd);
    }

    private static void checkPlatform() throws DeviceException {
        String reason = Posix.unsupportedPlatformReason();
        if (reason == null && !Files.isDirectory(Path.of("/proc/self/fd"))) {
            reason = "daxfs needs /proc to be mounted";
        }
        if (reason != null) {
            throw new DeviceException(Reason.UNSUPPORTED, reason);
        }
    }

    private static DeviceException notADevice(Path path, int type) {
        String what = switch (type) {
            case S_IFDIR -> "is a directory";
            case S_IFBLK -> "is a block device (for an fsdax namespace such as /dev/pmem0, mount it with"
                    + " -o dax and put an image file on it)";
            case S_IFIFO -> "is a FIFO";
            case S_IFSOCK -> "is a socket";
            default -> "is not a regular file";
        };
        return new DeviceException(Reason.NOT_A_DEVICE,
                path + " " + what + ", not an image file or a device-DAX device");
    }

    /** Undoes a failed open: unmap, close (which drops the lock), delete what we created. */
    private static void cleanUp(Arena arena, int fd, Path createdFile) {
        if (arena != null) {
            arena.close();
        }
        try {
            Posix.close(fd);
        } catch (ErrnoException ignored) {
            // the descriptor is released anyway
        }
        if (createdFile != null) {
            try {
                Files.deleteIfExists(createdFile);
            } catch (IOException ignored) {
                // best effort: the file is empty and sparse
            }
        }
    }
}
