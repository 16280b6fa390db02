package io.daxfs.fuse.libfuse;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.FsStats;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.perm.Credentials;
import io.daxfs.core.perm.PermissionChecker;
import io.daxfs.fuse.options.PermissionPolicy;
import io.daxfs.fuse.vfs.PosixAcls;
import io.daxfs.fuse.vfs.ProcGroups;
import io.daxfs.fuse.vfs.FallocateModes;

import jnr.ffi.Pointer;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * FUSE operations (libfuse 2 high-level, path based) mapped onto {@link DaxFileSystem}.
 *
 * <p>Every callback returns 0 or a negative errno; an {@link FsException} becomes its errno,
 * anything else is logged and becomes EIO (a bug must never take the daemon down). Files
 * opened or created get their inode number as the FUSE file handle, so I/O on an open file
 * never resolves a path and keeps working after a rename.
 *
 * <p>Data moves between the kernel's request buffer and device memory in one copy, through
 * a MemorySegment over the FUSE buffer (no byte[] in between).
 *
 * <p>Permissions: with {@link PermissionPolicy#daemonChecks()} every path is resolved and every
 * operation checked by {@link AccessControl} (mode bits and POSIX ACLs); {@link PosixAcls} keeps
 * ACLs and mode coupled. Otherwise both pass through (docs/permissions.md).
 *
 * <p>Concurrency: the session's workers call back at once; this class takes no lock of its own
 * (fs-core locks, {@link io.daxfs.core.concurrent.LockOrder}; {@link UnlinkedAliases}' monitor
 * is a leaf).
 */
public final class DaxfsFuse extends FuseStubFS {
    private static final Logger LOG = LoggerFactory.getLogger(DaxfsFuse.class);
    static final long UTIME_NOW = (1L << 30) - 1;
    static final long UTIME_OMIT = (1L << 30) - 2;

    /** FUSE_CAP_DONT_MASK: the kernel passes create modes unmasked, with the umask beside them. */
    static final int FUSE_CAP_DONT_MASK = 1 << 6;
    /** Offsets of {@code capable} and {@code want} in libfuse 2.9's struct fuse_conn_info (all unsigned). */
    static final int CONN_CAPABLE = 20;
    static final int CONN_WANT = 24;

    private final DaxFileSystem fs;
    private final boolean xattrs;
    private final PermissionPolicy permissions;
    private final PosixAcls acls;
    private final AccessControl access;
    /** libfuse's hidden names of unlinked open files (see {@link #hide}). */
    private final UnlinkedAliases aliases = new UnlinkedAliases();

    public DaxfsFuse(DaxFileSystem fs) {
        this(fs, true);
    }

    public DaxfsFuse(DaxFileSystem fs, boolean xattrs) {
        this(fs, xattrs, PermissionPolicy.KERNEL_MODE_BITS);
    }

    /**
     * @param xattrs false answers the extended-attribute calls with ENOSYS, after which the kernel
     *               stops sending them - and stops asking for security.capability before every
     *               write(2), one request less per write (docs/compatibility.md)
     */
    public DaxfsFuse(DaxFileSystem fs, boolean xattrs, PermissionPolicy permissions) {
        this.fs = fs;
        this.xattrs = xattrs;
        this.permissions = permissions;
        this.acls = new PosixAcls(fs, permissions.aclSemantics());
        this.access = new AccessControl(fs, acls, permissions.daemonChecks(), aliases);
        fs.onInodeFreed(aliases::forget);
    }

    /** Runs an operation, turning exceptions into negative errno values. */
    private static int call(String op, String path, IntSupplier body) {
        try {
            return body.getAsInt();
        } catch (FsException e) {
            return -e.errno().code();
        } catch (RuntimeException | Error e) {
            LOG.error("{} {} failed", op, path, e);
            return -Errno.EIO.code();
        }
    }

    /** The caller of the current request; supplementary groups are read only if a check needs them. */
    private Credentials caller() {
        FuseContext c = getContext();
        if (c == null) {
            return Credentials.of(0, 0);
        }
        long pid = c.pid.longValue();
        return new Credentials((int) c.uid.get(), (int) c.gid.get(), () -> ProcGroups.of(pid));
    }

    /** The inode of an open file or directory: its file handle, else (never with nopath) its path. */
    private long inodeOf(String path, FuseFileInfo fi) {
        if (fi != null) {
            long fh = fi.fh.get();
            if (fh != 0) {
                return fh;
            }
        }
        if (path == null) {
            throw new FsException(Errno.ENOENT, "no path and no file handle");
        }
        long alias = aliases.lookup(PathNames.name(path));
        return alias != 0 ? alias : fs.resolve(path);
    }

    private int callerUid() {
        FuseContext c = getContext();
        return c == null ? 0 : (int) c.uid.get();
    }

    private int callerUmask() {
        FuseContext c = getContext();
        return c == null ? 0 : (int) c.umask.get();
    }

    private static void fill(FileStat st, Attributes a) {
        st.st_ino.set(a.ino());
        st.st_mode.set(a.mode());
        st.st_nlink.set(a.nlink());
        st.st_uid.set(a.uid());
        st.st_gid.set(a.gid());
        st.st_rdev.set(a.rdev());
        st.st_size.set(a.size());
        st.st_blksize.set(4096);
        st.st_blocks.set(a.blocks512());
        st.st_atim.tv_sec.set(a.atimeSec());
        st.st_atim.tv_nsec.set(a.atimeNsec());
        st.st_mtim.tv_sec.set(a.mtimeSec());
        st.st_mtim.tv_nsec.set(a.mtimeNsec());
        st.st_ctim.tv_sec.set(a.ctimeSec());
        st.st_ctim.tv_nsec.set(a.ctimeNsec());
    }

    @Override
    public int getattr(String path, FileStat stat) {
        return call("getattr", path, () -> {
            fill(stat, fs.getattr(access.lookup(caller(), path)));
            return 0;
        });
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return call("fgetattr", path, () -> {
            fill(stat, fs.getattr(inodeOf(path, fi)));
            return 0;
        });
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        return call("readdir", path, () -> {
            for (DirEntry e : fs.readdir(inodeOf(path, fi))) {
                if (filter.apply(buf, e.name(), null, 0) != 0) {
                    break;
                }
            }
            return 0;
        });
    }

    @Override
    public int opendir(String path, FuseFileInfo fi) {
        return call("opendir", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, path);
            if (!fs.getattr(ino).isDirectory()) {
                return -Errno.ENOTDIR.code();
            }
            access.require(who, ino, PermissionChecker.MAY_READ);
            // readdir gets no path (nopath): it lists the directory by this handle. A removed
            // directory needs no open count: the kernel marks it dead and sends only releasedir.
            fi.fh.set(ino);
            return 0;
        });
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        return call("mkdir", path, () -> {
            Credentials who = caller();
            long dir = access.parent(who, path);
            access.mayCreate(who, dir);
            PosixAcls.NewInode n = acls.forNew(dir, FileMode.S_IFDIR | ((int) mode & FileMode.PERMISSION_BITS), callerUmask());
            acls.inherit(fs.mkdir(dir, PathNames.name(path), n.mode(), who.uid(), who.gid()), n);
            return 0;
        });
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        return call("create", path, () -> {
            Credentials who = caller();
            long dir = access.parent(who, path);
            access.mayCreate(who, dir);
            PosixAcls.NewInode n = acls.forNew(dir, FileMode.S_IFREG | ((int) mode & FileMode.PERMISSION_BITS), callerUmask());
            // createOpen registers the open handle before any unlink can run (release drops it).
            long ino = fs.createOpen(dir, PathNames.name(path), n.mode(), who.uid(), who.gid());
            try {
                acls.inherit(ino, n);
            } catch (RuntimeException | Error e) {
                fs.release(ino);
                throw e;
            }
            fi.fh.set(ino);
            return 0;
        });
    }

    @Override
    public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
        return call("mknod", path, () -> {
            Credentials who = caller();
            long dir = access.parent(who, path);
            access.mayCreate(who, dir);
            int requested = FileMode.type((int) mode) == 0 ? (int) mode | FileMode.S_IFREG : (int) mode;
            PosixAcls.NewInode n = acls.forNew(dir, requested, callerUmask());
            acls.inherit(fs.mknod(dir, PathNames.name(path), n.mode(), rdev, who.uid(), who.gid()), n);
            return 0;
        });
    }

    @Override
    public int symlink(String target, String path) {
        return call("symlink", path, () -> {
            Credentials who = caller();
            long dir = access.parent(who, path);
            access.mayCreate(who, dir);
            fs.symlink(dir, PathNames.name(path), target, who.uid(), who.gid());
            return 0;
        });
    }

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        return call("readlink", path, () -> {
            byte[] target = fs.readlink(access.lookup(caller(), path)).getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        });
    }

    @Override
    public int link(String existing, String path) {
        return call("link", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, existing);
            long dir = access.parent(who, path);
            access.mayCreate(who, dir);
            fs.link(ino, dir, PathNames.name(path));
            return 0;
        });
    }

    @Override
    public int unlink(String path) {
        return call("unlink", path, () -> {
            if (aliases.remove(PathNames.name(path))) {
                return 0; // libfuse's final unlink of a hidden name: the file went at the first
            }
            Credentials who = caller();
            long dir = access.parent(who, path);
            if (access.enforcing()) {
                access.mayDelete(who, dir, fs.lookup(dir, PathNames.name(path)));
            }
            fs.unlink(dir, PathNames.name(path));
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return call("rmdir", path, () -> {
            Credentials who = caller();
            long dir = access.parent(who, path);
            if (access.enforcing()) {
                access.mayDelete(who, dir, fs.lookup(dir, PathNames.name(path)));
            }
            fs.rmdir(dir, PathNames.name(path));
            return 0;
        });
    }

    @Override
    public int rename(String from, String to) {
        return call("rename", from, () -> {
            Credentials who = caller();
            long srcDir = access.parent(who, from);
            long dstDir = access.parent(who, to);
            if (access.enforcing()) {
                access.mayRename(who, srcDir, fs.lookup(srcDir, PathNames.name(from)), dstDir, existing(dstDir, PathNames.name(to)));
            }
            if (srcDir == dstDir && isLibfuseHiddenName(PathNames.name(to))
                    && hide(srcDir, PathNames.name(from), PathNames.name(to))) {
                return 0; // libfuse hiding an open file that is being unlinked or renamed over
            }
            fs.rename(srcDir, PathNames.name(from), dstDir, PathNames.name(to));
            return 0;
        });
    }

    /**
     * libfuse's "hide" of a file it counts as open: unlinks {@code name} for real. If the file
     * is open in daxfs too, {@code alias} stands for it until it is freed ({@link UnlinkedAliases}).
     * <p>
     * If it is not open any more, its last release has reached daxfs but not yet libfuse's own
     * open count: with {@code flag_nopath} libfuse's release takes no path lock, so it runs
     * beside the unlink that is hiding the file. libfuse decrements its count only after the
     * release callback returns; if that happens before it marks the node hidden, it never
     * deletes the hidden name (until unmount). A real rename here would leave a
     * {@code .fuse_hidden…} file in the directory - a wrong link count, a directory rmdir calls
     * not empty - so it is an unlink too, with no alias (nothing holds the file open). Such names
     * are libfuse's: the one cost is that a user's own rename of a regular file to one removes
     * it (docs/compatibility.md). False, with nothing changed, for anything but a regular file:
     * the caller renames normally.
     */
    private boolean hide(long dir, String name, String alias) {
        long ino = fs.lookup(dir, name);
        if (!FileMode.isRegular(fs.getattr(ino).mode())) {
            return false; // libfuse hides only files it opened: this rename is a user's own
        }
        aliases.add(alias, ino); // before the unlink: the file cannot be freed before its alias exists
        long unlinked;
        try {
            unlinked = fs.unlinkIfOpen(dir, name);
        } catch (RuntimeException | Error e) {
            aliases.remove(alias);
            throw e;
        }
        if (unlinked != ino) {
            aliases.remove(alias);
            fs.unlink(dir, name); // released already: see above
        }
        return true;
    }

    /**
     * libfuse 2.9's name for an open file it hides instead of unlinking:
     * {@code ".fuse_hidden%08x%08x"} (lib/fuse.c, hidden_name). Such a rename of a file that
     * is open becomes a real unlink in daxfs ({@link #hide}).
     */
    static boolean isLibfuseHiddenName(String name) {
        if (name.length() != 28 || !name.startsWith(".fuse_hidden")) {
            return false;
        }
        for (int i = 12; i < 28; i++) {
            if (Character.digit(name.charAt(i), 16) < 0 || Character.isUpperCase(name.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        return call("chmod", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, path);
            acls.chmod(ino, access.chmodMode(who, ino, (int) mode));
            return 0;
        });
    }

    @Override
    public int chown(String path, @uid_t long uid, @gid_t long gid) {
        return call("chown", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, path);
            access.mayChown(who, ino, (int) uid, (int) gid);
            fs.chown(ino, (int) uid, (int) gid);
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return call("utimens", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, path);
            access.maySetTimes(who, ino, isExplicit(timespec[0]) || isExplicit(timespec[1]),
                    isNow(timespec[0]) || isNow(timespec[1]));
            fs.setTimes(ino, toTimestamp(timespec[0]), toTimestamp(timespec[1]),
                    !isExplicit(timespec[0]) && !isExplicit(timespec[1]));
            return 0;
        });
    }

    private static boolean isNow(Timespec t) {
        return t.tv_nsec.longValue() == UTIME_NOW;
    }

    private static boolean isExplicit(Timespec t) {
        long nsec = t.tv_nsec.longValue();
        return nsec != UTIME_NOW && nsec != UTIME_OMIT;
    }

    /** null means UTIME_OMIT; UTIME_NOW becomes the current time. */
    static Timestamp toTimestamp(Timespec t) {
        long nsec = t.tv_nsec.longValue();
        if (nsec == UTIME_OMIT) {
            return null;
        }
        if (nsec == UTIME_NOW) {
            return Timestamp.now();
        }
        return new Timestamp(t.tv_sec.get(), (int) nsec);
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return call("truncate", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, path);
            access.require(who, ino, PermissionChecker.MAY_WRITE);
            fs.truncate(ino, size);
            return 0;
        });
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return call("ftruncate", path, () -> {
            long ino = inodeOf(path, fi);
            access.mayTruncateOpenFile(caller(), ino);
            fs.truncate(ino, size);
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return call("open", path, () -> {
            Credentials who = caller();
            access.lookup(who, path); // search permission along the path
            // Resolves and registers the handle in one step: no
            // unlink can free the file, or hand its number to a new one, in between.
            long ino = fs.open(path);
            try {
                access.mayOpen(who, ino, fi.flags.get());
            } catch (RuntimeException | Error e) {
                fs.release(ino);
                throw e;
            }
            fi.fh.set(ino);
            return 0;
        });
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return call("read", path, () -> {
            MemorySegment dst = MemorySegment.ofAddress(buf.address()).reinterpret(size);
            return fs.read(inodeOf(path, fi), offset, dst, 0, (int) size);
        });
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return call("write", path, () -> {
            MemorySegment src = MemorySegment.ofAddress(buf.address()).reinterpret(size);
            return fs.write(inodeOf(path, fi), offset, src, 0, (int) size);
        });
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return call("fsync", path, () -> {
            fs.fsync(inodeOf(path, fi));
            return 0;
        });
    }

    @Override
    public int fallocate(String path, int mode, @off_t long offset, @off_t long length, FuseFileInfo fi) {
        return call("fallocate", path, () -> {
            FallocateModes.apply(fs, inodeOf(path, fi), mode, offset, length);
            return 0;
        });
    }

    @Override
    public int fsyncdir(String path, FuseFileInfo fi) {
        return 0; // directory changes are journaled synchronously
    }

    // flush is deliberately not implemented: libfuse then answers FLUSH with ENOSYS, after which
    // the kernel never sends it again (fc->no_flush), one synchronous round trip less per
    // close(2). daxfs has nothing to flush at close (data is in device memory at each write),
    // and POSIX locks are the kernel's (no lock callback), so nothing depends on FLUSH.

    @Override
    public int release(String path, FuseFileInfo fi) {
        return call("release", path, () -> {
            long ino = fi.fh.get();
            if (ino != 0) {
                fs.release(ino); // the last release of an unlinked file frees it
            }
            return 0;
        });
    }

    @Override
    public int releasedir(String path, FuseFileInfo fi) {
        return 0;
    }

    // ------------------------------------------------------------------ extended attributes

    /** size 0 asks for the length; a buffer too small is ERANGE (getxattr(2), listxattr(2)). */
    private static int reply(byte[] data, Pointer buf, long size) {
        if (size == 0) {
            return data.length;
        }
        if (size < data.length) {
            return -Errno.ERANGE.code();
        }
        if (data.length > 0) {
            buf.put(0, data, 0, data.length);
        }
        return data.length;
    }

    @Override
    public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
        if (!xattrs) {
            return -Errno.ENOSYS.code();
        }
        return call("setxattr", path, () -> {
            if (size > io.daxfs.core.xattr.XattrNames.MAX_VALUE) {
                return -Errno.E2BIG.code();
            }
            byte[] v = new byte[(int) size];
            if (size > 0) {
                value.get(0, v, 0, v.length);
            }
            Credentials who = caller();
            long ino = access.lookup(who, path);
            access.mayWriteXattr(who, ino, name);
            acls.setxattr(who, ino, name, v, flags);
            return 0;
        });
    }

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        if (!xattrs) {
            return -Errno.ENOSYS.code();
        }
        return call("getxattr", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, path);
            access.mayReadXattr(who, ino, name);
            return reply(fs.getxattr(ino, name), value, size);
        });
    }

    @Override
    public int listxattr(String path, Pointer list, @size_t long size) {
        if (!xattrs) {
            return -Errno.ENOSYS.code();
        }
        return call("listxattr", path, () -> {
            // As Linux lists trusted.* only to CAP_SYS_ADMIN, it is listed only to root here.
            boolean privileged = callerUid() == 0;
            ByteArrayOutputStream names = new ByteArrayOutputStream();
            for (String n : fs.listxattr(access.lookup(caller(), path))) {
                if (privileged || !io.daxfs.core.xattr.XattrNames.isTrusted(n)) {
                    names.writeBytes(n.getBytes(StandardCharsets.UTF_8));
                    names.write(0);
                }
            }
            return reply(names.toByteArray(), list, size);
        });
    }

    @Override
    public int removexattr(String path, String name) {
        if (!xattrs) {
            return -Errno.ENOSYS.code();
        }
        return call("removexattr", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, path);
            access.mayWriteXattr(who, ino, name);
            fs.removexattr(ino, name);
            return 0;
        });
    }

    @Override
    public int statfs(String path, Statvfs st) {
        return call("statfs", path, () -> {
            FsStats s = fs.statfs();
            st.f_bsize.set(s.blockSize());
            st.f_frsize.set(s.blockSize());
            st.f_blocks.set(s.totalBlocks());
            st.f_bfree.set(s.freeBlocks());
            st.f_bavail.set(s.freeBlocks());
            st.f_files.set(s.totalInodes());
            st.f_ffree.set(s.freeInodes());
            st.f_favail.set(s.freeInodes());
            st.f_namemax.set(s.maxNameLength());
            return 0;
        });
    }

    /**
     * access(2), chdir(2) and the like: sent by the kernel only without default_permissions.
     * F_OK (0) asks only whether the path resolves.
     */
    @Override
    public int access(String path, int mask) {
        return call("access", path, () -> {
            Credentials who = caller();
            long ino = access.lookup(who, path);
            if (mask != 0) {
                access.require(who, ino, mask & (PermissionChecker.MAY_READ | PermissionChecker.MAY_WRITE
                        | PermissionChecker.MAY_EXEC));
            }
            return 0;
        });
    }

    /** The inode a name in {@code dir} refers to, or 0 if there is none. */
    private long existing(long dir, String name) {
        try {
            return fs.lookup(dir, name);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return 0;
            }
            throw e;
        }
    }

    /**
     * With ACL semantics, asks for FUSE_CAP_DONT_MASK: the kernel then passes the mode of a new
     * inode unmasked, and the daemon applies the umask only when the directory has no default
     * ACL (posix_acl_create).
     */
    @Override
    public Pointer init(Pointer conn) {
        if (conn != null && permissions.aclSemantics()) {
            int capable = conn.getInt(CONN_CAPABLE);
            if ((capable & FUSE_CAP_DONT_MASK) != 0) {
                conn.putInt(CONN_WANT, conn.getInt(CONN_WANT) | FUSE_CAP_DONT_MASK);
            } else {
                LOG.warn("the kernel cannot leave the umask to the daemon: default ACLs are masked by the umask too");
            }
        }
        LOG.debug("FUSE session initialised (permissions: {})", permissions);
        return null;
    }
}
