package io.daxfs.fuse.kernel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the lease machinery tells the kernel on /dev/fuse (docs/leases.md):
 * <ul>
 * <li>{@link #wake}: FUSE_NOTIFY_POLL with the kernel's poll handle, when a lease of an open file
 *     that someone polls breaks. Sent at once from the thread that made the free durable: the
 *     kernel only looks the handle up and wakes the waiters (a spinlock), nothing that can wait
 *     for the daemon.</li>
 * <li>{@link #invalidate}: FUSE_NOTIFY_INVAL_INODE of a byte range, after a write-lease holder's
 *     flush or release, so that read(2) and mmap through the mount see what it stored. The
 *     kernel drops the range's cached pages; a page being read in is locked until its READ is
 *     answered, and a dirty page of an mmap through the mount is written back first (WRITE):
 *     both need a free worker. So a dedicated thread sends it, and the worker that asked waits
 *     for it for at most {@link #WAIT_MILLIS} - never a cycle of workers waiting for each other.</li>
 * </ul>
 * Until {@link #connect} (and in tests without a channel) nothing is sent.
 */
final class LeaseNotifier {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseNotifier.class);
    /** Longest a worker waits for an invalidation before it answers anyway. */
    static final long WAIT_MILLIS = 2_000;

    private volatile FuseChannel channel;
    private volatile ExecutorService sender;

    void connect(FuseChannel channel) {
        this.sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "daxfs-lease-notify");
            t.setDaemon(true);
            return t;
        });
        this.channel = channel;
    }

    /** Wakes the pollers of the open file whose kernel poll handle is {@code kh}. */
    void wake(long kh) {
        FuseChannel c = channel;
        if (c != null && kh != 0) {
            long n = c.notify(FuseAbi.NOTIFY_POLL, kh);
            if (n < 0 && n != -FuseChannel.ENOENT) {
                LOG.warn("FUSE_NOTIFY_POLL failed with errno {}", -n);
            }
        }
    }

    /** Drops the kernel's cached pages of [offset, offset+length) of {@code ino} (and its attributes). */
    void invalidate(long ino, long offset, long length) {
        FuseChannel c = channel;
        ExecutorService s = sender;
        if (c == null || s == null) {
            return;
        }
        Future<?> done = s.submit(() -> {
            long n = c.notify(FuseAbi.NOTIFY_INVAL_INODE, ino, offset, length);
            if (n < 0 && n != -FuseChannel.ENOENT) {
                LOG.warn("FUSE_NOTIFY_INVAL_INODE of inode {} failed with errno {}", ino, -n);
            }
        });
        try {
            done.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("invalidating inode {} takes over {} ms; answering before it is done", ino, WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.error("invalidating inode {} failed", ino, e.getCause());
        }
    }

    void close() {
        ExecutorService s = sender;
        if (s != null) {
            s.shutdownNow();
        }
    }
}
