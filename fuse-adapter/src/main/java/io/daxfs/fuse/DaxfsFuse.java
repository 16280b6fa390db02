package io.daxfs.fuse;

import io.daxfs.core.Attributes;
import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.DirEntry;
import io.daxfs.core.Errno;
import io.daxfs.core.FsException;
import io.daxfs.core.FsStats;
import io.daxfs.core.Timestamp;
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

import java.lang.foreign.MemorySegment;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * FUSE operations (libfuse 2 high-level, path based) mapped onto {@link DaxFileSystem}.
 *
 * <p>Every callback returns 0 or a negative errno; an {@link FsException} becomes its errno,
 * anything else is logged and becomes EIO (a bug must never take the daemon down). Files
 * opened or created, and directories opened, get their inode number as the FUSE file handle,
 * so I/O on an open file never resolves a path and keeps working after a rename or unlink.
 * Files hold an open handle in {@link DaxFileSystem} from open/create to release: unlinking
 * one that is open keeps its data until the last release.
 *
 * <p>The mount sets {@code hard_remove}, {@code flag_nullpath_ok} and {@code flag_nopath}
 * ({@link MountDaemon}): libfuse then passes a null path to read, write, flush, release,
 * fsync, readdir, releasedir, fsyncdir, fgetattr, ftruncate (a size-only setattr with a file
 * handle), fallocate, lock, flock, ioctl and poll, which therefore work from {@code fi.fh}
 * alone. Every other callback gets a path: libfuse answers ENOENT itself when it has none
 * (the node of an unlinked file); a null one would still be answered ENOENT here.
 *
 * <p>Data moves between the kernel's request buffer and device memory in one copy, through
 * a MemorySegment over the FUSE buffer (no byte[] in between).
 */
public final class DaxfsFuse extends FuseStubFS {
    private static final Logger LOG = LoggerFactory.getLogger(DaxfsFuse.class);
    static final long UTIME_NOW = (1L << 30) - 1;
    static final long UTIME_OMIT = (1L << 30) - 2;

    private final DaxFileSystem fs;
    private final boolean xattrs;

    public DaxfsFuse(DaxFileSystem fs) {
        this(fs, true);
    }

    /**
     * @param xattrs false answers the extended-attribute calls with ENOSYS, after which the kernel
     *               stops sending them - and stops asking for security.capability before every
     *               write(2), one request less per write (docs/compatibility.md)
     */
    public DaxfsFuse(DaxFileSystem fs, boolean xattrs) {
        this.fs = fs;
        this.xattrs = xattrs;
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

    /** The inode a path names; ENOENT for a null path (libfuse has no path for an unlinked node). */
    private long resolve(String path) {
        return fs.resolve(present(path));
    }

    private static String present(String path) {
        if (path == null) {
            throw new FsException(Errno.ENOENT, "no path (the file has no name)");
        }
        return path;
    }

    private long parentOf(String path) {
        return fs.resolve(PathNames.parent(present(path)));
    }

    /** The inode of an open file or directory: its file handle, else (never with nopath) its path. */
    private long inodeOf(String path, FuseFileInfo fi) {
        if (fi != null) {
            long fh = fi.fh.get();
            if (fh != 0) {
                return fh;
            }
        }
        return resolve(path);
    }

    private int callerUid() {
        FuseContext c = getContext();
        return c == null ? 0 : (int) c.uid.get();
    }

    private int callerGid() {
        FuseContext c = getContext();
        return c == null ? 0 : (int) c.gid.get();
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
            fill(stat, fs.getattr(resolve(path)));
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
            long ino = resolve(path);
            if (!fs.getattr(ino).isDirectory()) {
                return -Errno.ENOTDIR.code();
            }
            // readdir gets no path (nopath): it lists the directory by this handle. A removed
            // directory needs no open count: the kernel marks it dead and sends only releasedir.
            fi.fh.set(ino);
            return 0;
        });
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        return call("mkdir", path, () -> {
            fs.mkdir(parentOf(path), PathNames.name(present(path)), (int) mode, callerUid(), callerGid());
            return 0;
        });
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        return call("create", path, () -> {
            long ino = fs.createOpen(parentOf(path), PathNames.name(present(path)), (int) mode, callerUid(), callerGid());
            fi.fh.set(ino);
            return 0;
        });
    }

    @Override
    public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
        return call("mknod", path, () -> {
            fs.mknod(parentOf(path), PathNames.name(present(path)), (int) mode, rdev, callerUid(), callerGid());
            return 0;
        });
    }

    @Override
    public int symlink(String target, String path) {
        return call("symlink", path, () -> {
            fs.symlink(parentOf(path), PathNames.name(present(path)), target, callerUid(), callerGid());
            return 0;
        });
    }

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        return call("readlink", path, () -> {
            byte[] target = fs.readlink(resolve(path)).getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        });
    }

    @Override
    public int link(String existing, String path) {
        return call("link", path, () -> {
            fs.link(resolve(existing), parentOf(path), PathNames.name(present(path)));
            return 0;
        });
    }

    @Override
    public int unlink(String path) {
        return call("unlink", path, () -> {
            fs.unlink(parentOf(path), PathNames.name(present(path)));
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return call("rmdir", path, () -> {
            fs.rmdir(parentOf(path), PathNames.name(present(path)));
            return 0;
        });
    }

    @Override
    public int rename(String from, String to) {
        return call("rename", from, () -> {
            fs.rename(parentOf(from), PathNames.name(present(from)), parentOf(to), PathNames.name(present(to)));
            return 0;
        });
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        return call("chmod", path, () -> {
            fs.chmod(resolve(path), (int) mode);
            return 0;
        });
    }

    @Override
    public int chown(String path, @uid_t long uid, @gid_t long gid) {
        return call("chown", path, () -> {
            fs.chown(resolve(path), (int) uid, (int) gid);
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return call("utimens", path, () -> {
            fs.setTimes(resolve(path), toTimestamp(timespec[0]), toTimestamp(timespec[1]));
            return 0;
        });
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
            fs.truncate(resolve(path), size);
            return 0;
        });
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return call("ftruncate", path, () -> {
            fs.truncate(inodeOf(path, fi), size);
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return call("open", path, () -> {
            // Resolves and registers the handle in one step: no unlink can free the file between.
            fi.fh.set(fs.open(present(path)));
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

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    @Override
    public int fallocate(String path, int mode, @off_t long offset, @off_t long length, FuseFileInfo fi) {
        return call("fallocate", path, () -> {
            long ino = inodeOf(path, fi);
            boolean keepSize = (mode & FALLOC_FL_KEEP_SIZE) != 0;
            int rest = mode & ~FALLOC_FL_KEEP_SIZE;
            if (rest == FALLOC_FL_PUNCH_HOLE) {
                if (!keepSize) {
                    return -Errno.EOPNOTSUPP.code(); // Linux requires KEEP_SIZE with PUNCH_HOLE
                }
                fs.punchHole(ino, offset, length);
            } else if (rest == FALLOC_FL_ZERO_RANGE) {
                fs.zeroRange(ino, offset, length, keepSize);
            } else if (rest == 0) {
                fs.fallocate(ino, offset, length, keepSize);
            } else {
                return -Errno.EOPNOTSUPP.code(); // collapse/insert range, unshare
            }
            return 0;
        });
    }

    @Override
    public int fsyncdir(String path, FuseFileInfo fi) {
        return 0; // directory changes are journaled synchronously
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return 0;
    }

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
            fs.setxattr(resolve(path), name, v, flags);
            return 0;
        });
    }

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        if (!xattrs) {
            return -Errno.ENOSYS.code();
        }
        return call("getxattr", path, () -> reply(fs.getxattr(resolve(path), name), value, size));
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
            for (String n : fs.listxattr(resolve(path))) {
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
            fs.removexattr(resolve(path), name);
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

    @Override
    public Pointer init(Pointer conn) {
        LOG.info("FUSE session initialised");
        return null;
    }
}
