package io.daxfs.fuse.libfuse;

import jnr.ffi.Pointer;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Timespec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A tiny in-memory file system for the tests: one flat directory with
 * <ul>
 *   <li>/hello - read-only "Hello World!\n"</li>
 *   <li>/data - writable, initially empty; new files can be created next to it</li>
 *   <li>/big - read-only, generated content of a configurable size (for reads and fio)</li>
 *   <li>/slow0 .. /slow3 - read-only, each read sleeps {@link #SLOW_READ_MILLIS} (concurrency probe)</li>
 * </ul>
 * It records what reached the callbacks so the tests can assert on it.
 */
public class MemoryTestFs extends FuseStubFS {
    public static final byte[] HELLO = "Hello World!\n".getBytes(StandardCharsets.US_ASCII);
    public static final long UTIME_NOW = (1L << 30) - 1;
    public static final long UTIME_OMIT = (1L << 30) - 2;
    public static final int SLOW_READ_MILLIS = 400;

    public record UtimensCall(String path, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) {
    }

    public record FallocateCall(String path, int mode, long offset, long length) {
    }

    public record FlockCall(String path, int op) {
    }

    /** A file; guarded by its own monitor. */
    private static final class Node {
        final boolean writable;
        final boolean slow;
        byte[] data;
        long size;
        long atimeSec, atimeNsec, mtimeSec, mtimeNsec;

        Node(byte[] data, boolean writable, boolean slow) {
            this.data = data;
            this.size = data.length;
            this.writable = writable;
            this.slow = slow;
            long now = System.currentTimeMillis() / 1000;
            atimeSec = mtimeSec = now;
        }

        void ensureCapacity(long needed) {
            if (needed > data.length) {
                data = Arrays.copyOf(data, (int) Math.max(needed, data.length * 2L));
            }
        }
    }

    private final Map<String, Node> files = new ConcurrentHashMap<>();

    public final List<UtimensCall> utimensCalls = new CopyOnWriteArrayList<>();
    public final List<FallocateCall> fallocateCalls = new CopyOnWriteArrayList<>();
    public final List<FlockCall> flockCalls = new CopyOnWriteArrayList<>();
    public final Set<String> callbackThreads = ConcurrentHashMap.newKeySet();
    public final AtomicLong maxWriteSize = new AtomicLong();
    public final AtomicInteger maxSlowReadsInFlight = new AtomicInteger();
    public final AtomicBoolean destroyed = new AtomicBoolean();
    public final LongAdder readCalls = new LongAdder();
    /** fuse_get_context() as seen in create(): uid and pid of the calling process. */
    public volatile long createUid = -1, createPid = -1;
    private final AtomicInteger slowReadsInFlight = new AtomicInteger();

    public MemoryTestFs() {
        this(1 << 20);
    }

    public MemoryTestFs(int bigFileSize) {
        files.put("/hello", new Node(HELLO, false, false));
        files.put("/data", new Node(new byte[0], true, false));
        files.put("/big", new Node(bigContent(bigFileSize), false, false));
        for (int i = 0; i < 4; i++) {
            files.put("/slow" + i, new Node("slow\n".getBytes(StandardCharsets.US_ASCII), false, true));
        }
    }

    /** Deterministic, not too compressible content. */
    public static byte[] bigContent(int size) {
        byte[] b = new byte[size];
        long x = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < size; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b[i] = (byte) x;
        }
        return b;
    }

    private void seen() {
        callbackThreads.add(Thread.currentThread().getName());
    }

    @Override
    public int getattr(String path, FileStat stat) {
        seen();
        if (path.equals("/")) {
            stat.st_mode.set(FileStat.S_IFDIR | 0755);
            stat.st_nlink.set(2);
            return 0;
        }
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        synchronized (n) {
            stat.st_mode.set(FileStat.S_IFREG | (n.writable ? 0644 : 0444));
            stat.st_nlink.set(1);
            stat.st_size.set(n.size);
            stat.st_atim.tv_sec.set(n.atimeSec);
            stat.st_atim.tv_nsec.set(n.atimeNsec);
            stat.st_mtim.tv_sec.set(n.mtimeSec);
            stat.st_mtim.tv_nsec.set(n.mtimeNsec);
        }
        return 0;
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        seen();
        if (!path.equals("/")) {
            return -ErrorCodes.ENOTDIR();
        }
        filter.apply(buf, ".", null, 0);
        filter.apply(buf, "..", null, 0);
        for (String name : files.keySet()) {
            filter.apply(buf, name.substring(1), null, 0);
        }
        return 0;
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        seen();
        return files.containsKey(path) ? 0 : -ErrorCodes.ENOENT();
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        seen();
        createUid = getContext().uid.get();
        createPid = getContext().pid.get();
        files.putIfAbsent(path, new Node(new byte[0], true, false));
        return 0;
    }

    @Override
    public int unlink(String path) {
        seen();
        return files.remove(path) != null ? 0 : -ErrorCodes.ENOENT();
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        readCalls.increment();
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        if (n.slow) {
            slowRead();
        }
        synchronized (n) {
            if (offset >= n.size) {
                return 0;
            }
            int len = (int) Math.min(size, n.size - offset);
            buf.put(0, n.data, (int) offset, len);
            return len;
        }
    }

    private void slowRead() {
        seen();
        int now = slowReadsInFlight.incrementAndGet();
        maxSlowReadsInFlight.accumulateAndGet(now, Math::max);
        try {
            Thread.sleep(SLOW_READ_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            slowReadsInFlight.decrementAndGet();
        }
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        seen();
        maxWriteSize.accumulateAndGet(size, Math::max);
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        if (!n.writable) {
            return -ErrorCodes.EACCES();
        }
        synchronized (n) {
            n.ensureCapacity(offset + size);
            buf.get(0, n.data, (int) offset, (int) size);
            n.size = Math.max(n.size, offset + size);
        }
        return (int) size;
    }

    @Override
    public int truncate(String path, @off_t long size) {
        seen();
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        if (!n.writable) {
            return -ErrorCodes.EACCES();
        }
        synchronized (n) {
            n.ensureCapacity(size);
            if (size > n.size) {
                Arrays.fill(n.data, (int) n.size, (int) size, (byte) 0);
            }
            n.size = size;
        }
        return 0;
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        seen();
        long aSec = timespec[0].tv_sec.get(), aNsec = timespec[0].tv_nsec.longValue();
        long mSec = timespec[1].tv_sec.get(), mNsec = timespec[1].tv_nsec.longValue();
        utimensCalls.add(new UtimensCall(path, aSec, aNsec, mSec, mNsec));
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        long nowSec = System.currentTimeMillis() / 1000;
        synchronized (n) {
            if (aNsec == UTIME_NOW) {
                n.atimeSec = nowSec;
                n.atimeNsec = 0;
            } else if (aNsec != UTIME_OMIT) {
                n.atimeSec = aSec;
                n.atimeNsec = aNsec;
            }
            if (mNsec == UTIME_NOW) {
                n.mtimeSec = nowSec;
                n.mtimeNsec = 0;
            } else if (mNsec != UTIME_OMIT) {
                n.mtimeSec = mSec;
                n.mtimeNsec = mNsec;
            }
        }
        return 0;
    }

    @Override
    public int fallocate(String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
        seen();
        fallocateCalls.add(new FallocateCall(path, mode, off, length));
        if (mode != 0) {
            return -ErrorCodes.EOPNOTSUPP();
        }
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        synchronized (n) {
            n.ensureCapacity(off + length);
            n.size = Math.max(n.size, off + length);
        }
        return 0;
    }

    @Override
    public int flock(String path, FuseFileInfo fi, int op) {
        seen();
        flockCalls.add(new FlockCall(path, op));
        return 0;
    }

    @Override
    public void destroy(Pointer initResult) {
        destroyed.set(true);
    }
}
