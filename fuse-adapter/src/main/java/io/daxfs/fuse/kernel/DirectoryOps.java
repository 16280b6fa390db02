package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FsException;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * OPENDIR, READDIR, READDIRPLUS, RELEASEDIR and FSYNCDIR.
 *
 * <p>A listing is a snapshot taken when the kernel asks from offset 0 (opendir, rewinddir) and
 * served from the handle until the next rewind: the offset of an entry is its index + 1, so a
 * reader that continues where it left off never sees an entry twice or misses one that existed
 * throughout (POSIX leaves entries added or removed meanwhile unspecified). Listing a directory
 * of n entries costs O(n) once, not once per READDIR.
 *
 * <p>Concurrency: the open listings are a concurrent map; a listing's monitor is held while its
 * snapshot is taken or handed out, so two READDIRs of one handle never see a half-made one. It
 * is held around fs-core's readdir: before every fs-core lock ({@link KernelFileSystem} has the
 * order).
 */
final class DirectoryOps {
    private final DaxFileSystem fs;
    private final KernelOptions options;
    private final ConcurrentHashMap<Long, Listing> open = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    private final KernelLookups lookups;

    DirectoryOps(DaxFileSystem fs, KernelOptions options, KernelLookups lookups) {
        this.fs = fs;
        this.options = options;
        this.lookups = lookups;
    }

    /** An open directory and its current snapshot. */
    private static final class Listing {
        final long ino;
        List<DirEntry> entries;

        Listing(long ino) {
            this.ino = ino;
        }
    }

    /**
     * OPENDIR registers an open handle in fs-core ({@link DaxFileSystem#open(long)}) until
     * RELEASEDIR: a directory removed (or renamed over) while open then stays, empty and with
     * link count 0, so fstat of the descriptor works as on ext4 (xfstests generic/035).
     */
    void opendir(Request r, Reply out) {
        long ino = r.nodeid();
        if (!fs.getattr(ino).isDirectory()) {
            throw new FsException(Errno.ENOTDIR, "inode " + ino);
        }
        fs.open(ino);
        long fh = nextHandle.getAndIncrement();
        open.put(fh, new Listing(ino));
        out.putLong(OPEN_OUT_FH, fh);
        out.putInt(OPEN_OUT_FLAGS, 0);
        out.putInt(OPEN_OUT_FLAGS + 4, 0);
        if (!out.send(OPEN_OUT_SIZE)) {
            open.remove(fh); // the kernel never saw the handle: no RELEASEDIR will come
            fs.release(ino);
        }
    }

    void releasedir(Request r, Reply out) {
        Listing l = open.remove(r.argLong(0));
        if (l != null) {
            fs.release(l.ino); // the last release of a removed directory frees it
        }
        out.ok();
    }

    void fsyncdir(Request r, Reply out) {
        out.ok(); // directory changes are journaled synchronously
    }

    private List<DirEntry> entries(Request r) {
        Listing l = open.get(r.argLong(IO_IN_FH));
        if (l == null) {
            throw new FsException(Errno.EBADF, "no open directory " + r.argLong(IO_IN_FH));
        }
        long offset = r.argLong(IO_IN_OFFSET);
        synchronized (l) {
            if (offset == 0 || l.entries == null) {
                l.entries = fs.readdir(l.ino); // also the access that updates atime
            }
            return l.entries;
        }
    }

    void readdir(Request r, Reply out) {
        List<DirEntry> entries = entries(r);
        long offset = r.argLong(IO_IN_OFFSET);
        long room = Math.min(Integer.toUnsignedLong(r.argInt(IO_IN_SIZE)), out.capacity());
        MemorySegment buf = out.body();
        long pos = 0;
        for (long i = Math.max(0, offset); i < entries.size(); i++) {
            DirEntry e = entries.get((int) i);
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            int size = direntSize(name.length);
            if (pos + size > room) {
                break;
            }
            pos += putDirent(out, buf, pos, e, name, i + 1);
        }
        out.send((int) pos);
    }

    /**
     * READDIRPLUS: each entry with its attributes, from which the kernel makes dentries at once
     * ("ls -l" and "find" then need no LOOKUP per name). "." and ".." and a name whose inode died
     * since the snapshot go with node id 0, which the kernel lists but does not instantiate.
     */
    void readdirplus(Request r, Reply out) {
        List<DirEntry> entries = entries(r);
        long offset = r.argLong(IO_IN_OFFSET);
        long room = Math.min(Integer.toUnsignedLong(r.argInt(IO_IN_SIZE)), out.capacity());
        MemorySegment buf = out.body();
        long pos = 0;
        long[] handed = new long[16];
        int count = 0;
        for (long i = Math.max(0, offset); i < entries.size(); i++) {
            DirEntry e = entries.get((int) i);
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            int size = direntPlusSize(name.length);
            if (pos + size > room) {
                break;
            }
            Attributes a = isDot(e.name()) ? null : attributesOrNull(e.ino());
            if (a != null && a.ino() == e.ino()) {
                AttrCodec.putEntry(out, pos, a, options.entryTimeoutNanos(), options.attrTimeoutNanos());
                if (count == handed.length) {
                    handed = java.util.Arrays.copyOf(handed, count * 2);
                }
                handed[count++] = a.ino();
                lookups.handing(a.ino()); // the kernel instantiates every entry with a node id
            } else {
                out.zero(pos, ENTRY_OUT_SIZE);
            }
            pos += ENTRY_OUT_SIZE;
            pos += putDirent(out, buf, pos, e, name, i + 1);
        }
        if (!out.send((int) pos)) {
            for (int k = 0; k < count; k++) {
                lookups.forget(handed[k], 1);
            }
        }
    }

    private Attributes attributesOrNull(long ino) {
        try {
            return fs.getattr(ino);
        } catch (FsException e) {
            return null;
        }
    }

    private static boolean isDot(String name) {
        return name.equals(".") || name.equals("..");
    }

    /** struct fuse_dirent at body offset {@code pos}, padded with zeros to 8 bytes; returns its size. */
    private static int putDirent(Reply out, MemorySegment buf, long pos, DirEntry e, byte[] name, long nextOffset) {
        int size = direntSize(name.length);
        out.putLong(pos, e.ino());
        out.putLong(pos + 8, nextOffset);
        out.putInt(pos + 16, name.length);
        out.putInt(pos + 20, e.type());
        long at = Reply.bodyOffset() + pos + DIRENT_HEADER;
        MemorySegment.copy(name, 0, buf, JAVA_BYTE, at, name.length);
        buf.asSlice(at + name.length, size - DIRENT_HEADER - name.length).fill((byte) 0);
        return size;
    }
}
