package io.daxfs.fuse.kernel;

import io.daxfs.fuse.mount.FuseMountException;
import io.daxfs.fuse.mount.MountPointCheck;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.mount.MountTable;
import io.daxfs.fuse.mount.Unmounter;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A mount served through FUSE over io_uring: one {@link RingQueue} per CPU (the kernel's
 * queues), each with its own io_uring and a thread pinned to its CPU, plus reader threads on
 * /dev/fuse ({@link KernelSession#serve}) for what the ring does not carry: INIT (the ring is
 * registered after it), FORGET and BATCH_FORGET, INTERRUPT, and requests that were queued
 * before the ring was ready. Both sides hand their requests to the same {@link KernelFileSystem}.
 * docs/uring-frontend.md.
 *
 * <p>Lifecycle: {@link #start} sets up every queue's io_uring and buffers before it mounts (a
 * failure there fails the mount, nothing mounted), then mounts and starts the session (the
 * shared {@link MountSession}: its workers are the queue threads and the /dev/fuse readers).
 * The kernel sends INIT on /dev/fuse; daxfs asks for FUSE_OVER_IO_URING in its answer; then
 * each queue thread registers its entries, and once every queue has one the kernel sends every
 * request but forgets and interrupts through the rings (until then it holds new requests). The
 * session ends as with /dev/fuse: unmount or abort ends the connection, the kernel completes
 * every ring entry with ENOTCONN and /dev/fuse reads fail with ENODEV; a queue thread also
 * returns when a /dev/fuse reader does ({@link RingQueue#wake}). Then the rings are closed and
 * the descriptor with them.
 *
 * <p>Once mounted, the {@link KernelFileSystem} is connected to the /dev/fuse channel and the
 * mount point ({@link KernelFileSystem#connect}, as {@link KernelSession} does): lease
 * notifications go out there, and it is disconnected when the connection is closed.
 *
 * <p>Concurrency: as {@link KernelSession}: the workers share the {@link KernelFileSystem} and
 * the channel. Every notification is written to /dev/fuse, never to a ring (the ring refuses
 * unique 0): from queue threads (attribute invalidations), from whichever thread frees leased
 * blocks (FUSE_NOTIFY_POLL, inside fs-core's locks: the kernel only wakes pollers) and from the
 * lease notifier's thread (page-cache invalidations, which a queue thread waits for at most
 * {@link LeaseNotifier#WAIT_MILLIS}). Each queue's ring and buffers are its thread's. This
 * class takes no lock; the lock order is {@link KernelFileSystem}'s.
 */
final class UringSession {
    private static final Logger LOG = LoggerFactory.getLogger(UringSession.class);
    /**
     * Ring entries per queue. One thread serves a queue, one request at a time; a second entry
     * lets the kernel hand over the next request of the same CPU while one is served, so that
     * both go out in one io_uring_enter. (-Ddaxfs.uring.depth=N for measurements.)
     */
    static final int DEPTH = Integer.getInteger("daxfs.uring.depth", 2);

    private final List<RingQueue> queues;
    private final MountSession session;

    private UringSession(KernelFileSystem fs, KernelMount mount, MountTable.Entry entry, Path mountPoint,
                         List<RingQueue> queues, int devThreads) {
        this.queues = queues;
        int rings = queues.size();
        MountSession.Settings settings = MountSession.Settings.of("daxfs-uring", rings + devThreads);
        AtomicInteger next = new AtomicInteger();
        this.session = new MountSession(settings, mountPoint, entry, s -> {
            int i = next.getAndIncrement();
            if (i < rings) {
                RingQueue q = queues.get(i);
                return () -> {
                    try {
                        q.run(fs, s);
                    } catch (RuntimeException | Error e) {
                        s.workerFailed("FUSE ring queue " + q.qid + " failed", e);
                    }
                };
            }
            return () -> {
                KernelSession.serve(fs, mount.channel(), s);
                // The connection ended (or the session is stopping): no queue may wait on.
                queues.forEach(RingQueue::wake);
            };
        }, new MountSession.Connection() {
            @Override
            public void afterForcedUnmount() {
                Unmounter.abortConnection(entry);
            }

            @Override
            public void close() {
                logServed();
                fs.disconnect();
                try {
                    queues.forEach(RingQueue::close);
                } finally {
                    mount.unmount(); // the connection is gone: this only closes the descriptor
                }
            }
        });
    }

    /**
     * Mounts {@code fs} at {@code mountPoint} (kernel options {@code mountOptions}) and serves it
     * through one ring per CPU and {@code devThreads} readers of /dev/fuse.
     *
     * @throws FuseMountException if the rings cannot be set up (before anything is mounted),
     *                            the mount point is unusable or the mount fails
     */
    static MountSession start(KernelFileSystem fs, Path mountPoint, List<String> mountOptions, int devThreads) {
        return mount(fs, mountPoint, mountOptions, devThreads).session;
    }

    /** {@link #start}, returning this transport's side of the session (tests). */
    static UringSession mount(KernelFileSystem fs, Path mountPoint, List<String> mountOptions, int devThreads) {
        Path canonical = MountPointCheck.validate(mountPoint,
                mountOptions.isEmpty() ? List.of() : List.of("-o", String.join(",", mountOptions)));
        List<RingQueue> queues = createQueues(fs.options());
        fs.alsoAsk(UringAbi.FUSE_OVER_IO_URING);
        KernelMount m;
        try {
            m = KernelMount.mount(canonical, mountOptions);
        } catch (RuntimeException | Error e) {
            queues.forEach(RingQueue::close);
            throw e;
        }
        fs.connect(m.channel(), canonical.toString());
        UringSession s;
        try {
            queues.forEach(q -> q.attach(m.channel()));
            s = new UringSession(fs, m, MountTable.justMounted(canonical), canonical, queues, devThreads);
            s.session.start();
        } catch (RuntimeException | Error e) {
            fs.disconnect();
            queues.forEach(RingQueue::close);
            m.unmount(); // no worker ran yet
            throw e;
        }
        KernelSession.raiseReadahead(fs, MountTable.justMounted(canonical),
                KernelSession.readaheadKib(fs.options().readaheadKib(), mountOptions));
        s.reportRing(fs);
        return s;
    }

    MountSession session() {
        return session;
    }

    /**
     * Requests the rings have served so far. Exact once the session has ended; while it runs, a
     * count each queue thread keeps in a plain field, read without synchronisation (tests,
     * diagnostics).
     */
    long served() {
        return queues.stream().mapToLong(RingQueue::served).sum();
    }

    /** One queue per possible CPU, each with its io_uring and DEPTH entries of max_write bytes. */
    private static List<RingQueue> createQueues(KernelOptions o) {
        long payload = Math.max(FuseAbi.MIN_READ_BUFFER, Math.max(o.maxWrite(), (long) o.maxPages() * 4096));
        int n = UringSupport.queues();
        List<RingQueue> queues = new ArrayList<>(n);
        try {
            for (int q = 0; q < n; q++) {
                queues.add(new RingQueue(q, DEPTH, payload));
            }
        } catch (LinuxCalls.NativeCallException e) {
            queues.forEach(RingQueue::close);
            String hint = e.errno == LinuxCalls.EPERM ? " (is io_uring switched off by /proc/sys/kernel/io_uring_disabled?)"
                    : e.errno == LinuxCalls.ENOSYS ? " (this kernel has no io_uring)" : "";
            throw new FuseMountException("frontend=uring: " + e.getMessage() + hint + "; mount with frontend=kernel");
        }
        return queues;
    }

    /**
     * Once INIT is done and every queue has submitted its entries: one line saying whether the
     * rings serve the mount (the kernel may have refused: then it falls back to /dev/fuse itself).
     */
    private void reportRing(KernelFileSystem fs) {
        if (fs.agreedFlags() == 0) {
            LOG.warn("FUSE INIT not answered yet; the rings will be registered after it");
            return;
        }
        if ((fs.agreedFlags() & UringAbi.FUSE_OVER_IO_URING) == 0) {
            LOG.error("FUSE over io_uring: the kernel did not offer it at INIT ({} switched off since the mount "
                    + "checked it?); serving through /dev/fuse", UringSupport.PARAMETER);
            return;
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (RingQueue q : queues) {
            while (q.registration() == 1 && System.nanoTime() < deadline && session.isRunning()) {
                Thread.onSpinWait();
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (q.registration() != 0) {
                LOG.error("FUSE over io_uring: queue {} did not register ({}); requests go through /dev/fuse", q.qid,
                        q.registration() == 1 ? "no answer within 10 s" : LinuxCalls.describe(-q.registration()));
                return;
            }
        }
        LOG.debug("FUSE over io_uring: {} queues (one per CPU, threads pinned), {} entries each with {} KiB payload;"
                + " /dev/fuse keeps INIT, forgets and interrupts", queues.size(), DEPTH,
                fs.options().maxWrite() >> 10);
    }

    private void logServed() {
        StringBuilder b = new StringBuilder();
        long total = 0;
        for (RingQueue q : queues) {
            b.append(b.isEmpty() ? "" : ", ").append("queue ").append(q.qid).append(": ").append(q.served());
            total += q.served();
        }
        LOG.debug("FUSE over io_uring served {} requests ({})", total, b);
    }
}
