package io.daxfs.fuse.kernel;

import io.daxfs.fuse.mount.DaemonThreads;
import io.daxfs.fuse.mount.FuseMountException;
import io.daxfs.fuse.mount.MountPointCheck;
import io.daxfs.fuse.mount.MountTable;
import io.daxfs.fuse.mount.Unmounter;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A mount served by a fixed pool of Java threads that read requests from /dev/fuse and write
 * replies, with no libfuse between them and the kernel (libfuse 2 only performs the mount:
 * {@link KernelMount}).
 *
 * <p>Each worker owns a request buffer (max_write plus room for the headers) and a reply buffer
 * (max_write plus the reply header), both off-heap, and reads into them with read(2): serving a
 * READ or WRITE allocates nothing on the Java heap.
 *
 * <p>Lifecycle: {@link #start} mounts and starts the workers. The session ends when the kernel
 * ends the connection (every worker's read fails with ENODEV): after an external umount, or after
 * {@link #stop()}, which unmounts normally as soon as nothing under the mount is in use (serving
 * the open files meanwhile) and forces the unmount after a grace period. A supervisor thread joins
 * the workers and then closes the descriptor; {@link #awaitExit()} returns after that. A JVM
 * shutdown hook (SIGTERM, SIGINT) calls {@link #stop()}.
 *
 * <p>Sizing: the pool never grows. A request in flight holds its worker until it is answered, so
 * the pool bounds how many requests can wait (for a range lock, or for busy extents at ENOSPC) at
 * once; more requests wait in the kernel's queue.
 */
public final class KernelSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KernelSession.class);
    private static final Duration UNMOUNT_GRACE = Duration.ofSeconds(2);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    /** Room for struct fuse_in_header, fuse_write_in and a name, ahead of max_write bytes of data. */
    static final int REQUEST_HEADROOM = 4096;

    private final KernelFileSystem fs;
    private final KernelMount mount;
    private final MountTable.Entry entry;
    private final Path mountPoint;
    private final List<Thread> workers = new ArrayList<>();
    private final Thread supervisor;
    private final Thread shutdownHook;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private final CountDownLatch exited = new CountDownLatch(1);
    private volatile boolean workersDone;
    private volatile Thread stopper;

    private KernelSession(KernelFileSystem fs, KernelMount mount, MountTable.Entry entry, Path mountPoint, int threads) {
        this.fs = fs;
        this.mount = mount;
        this.entry = entry;
        this.mountPoint = mountPoint;
        String name = mountPoint.getFileName() == null ? "root" : mountPoint.getFileName().toString();
        for (int i = 0; i < threads; i++) {
            workers.add(DaemonThreads.daemon(this::serve, "daxfs-kfuse-" + name + "-" + i));
        }
        supervisor = DaemonThreads.daemon(this::superviseAndClose, "daxfs-kfuse-" + name + "-supervisor");
        shutdownHook = new Thread(this::stopQuietly, "daxfs-kfuse-" + name + "-shutdown");
    }

    /**
     * Mounts {@code fs} at {@code mountPoint} with the kernel options {@code mountOptions}
     * (allow_other, default_permissions, fsname=, subtype=, ro, ...) and starts serving.
     *
     * @throws FuseMountException if the mount point is unusable or the mount fails
     */
    public static KernelSession start(KernelFileSystem fs, Path mountPoint, List<String> mountOptions, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1");
        }
        Path canonical = MountPointCheck.validate(mountPoint,
                mountOptions.isEmpty() ? List.of() : List.of("-o", String.join(",", mountOptions)));
        KernelMount m = KernelMount.mount(canonical, mountOptions);
        KernelSession s;
        try {
            MountTable.Entry e = MountTable.find(canonical).orElseThrow(
                    () -> new FuseMountException("mounted, but " + canonical + " is not in mountinfo"));
            s = new KernelSession(fs, m, e, canonical, threads);
        } catch (RuntimeException | Error e) {
            m.unmount();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(s.shutdownHook);
        s.workers.forEach(Thread::start);
        s.supervisor.start();
        s.raiseReadahead();
        return s;
    }

    public Path mountPoint() {
        return mountPoint;
    }

    public int threads() {
        return workers.size();
    }

    public boolean isRunning() {
        return exited.getCount() > 0;
    }

    /** One worker: read a request, serve it, until the connection ends. */
    private void serve() {
        KernelOptions o = fs.options();
        FuseChannel channel = mount.channel();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(Math.max(FuseAbi.MIN_READ_BUFFER, o.maxWrite() + REQUEST_HEADROOM), 4096);
            MemorySegment outBuffer = arena.allocate(FuseAbi.OUT_HEADER_SIZE + (long) o.maxWrite(), 4096);
            MemorySegment state = FuseChannel.newCallState(arena);
            Request request = new Request(in);
            Reply reply = new Reply(channel, outBuffer, state, arena.allocate(Reply.NOTICE_SIZE, 8));
            while (true) {
                long n = channel.read(state, in);
                if (n < 0) {
                    int errno = (int) -n;
                    if (errno == FuseChannel.EINTR || errno == FuseChannel.EAGAIN || errno == FuseChannel.ENOENT) {
                        continue; // interrupted, or a request that was withdrawn before we read it
                    }
                    if (errno != FuseChannel.ENODEV) {
                        LOG.error("read of /dev/fuse failed with errno {}; stopping {}", errno, mountPoint);
                        requestStop();
                    }
                    return; // ENODEV: the connection has ended (unmounted or aborted)
                }
                if (n < FuseAbi.IN_HEADER_SIZE) {
                    LOG.error("short request of {} bytes from the kernel; ignored", n);
                    continue;
                }
                request.reset((int) n);
                fs.handle(request, reply);
            }
        } catch (RuntimeException | Error e) {
            LOG.error("FUSE worker failed; stopping {}", mountPoint, e);
            requestStop();
        }
    }

    /**
     * Sets the mount's readahead window (sysfs, root only) once INIT is done: the kernel takes the
     * smaller of its default (128 KiB) and what INIT says, and a sequential reader then waits for
     * one 128 KiB READ after another.
     */
    private void raiseReadahead() {
        int kib = fs.options().readaheadKib();
        if (kib <= 0) {
            return;
        }
        Path knob = Path.of("/sys/class/bdi", entry.device(), "read_ahead_kb");
        try {
            if (!fs.awaitInit(Duration.ofSeconds(10))) {
                return;
            }
            if (Files.isWritable(knob)) {
                Files.writeString(knob, Integer.toString(kib));
            }
        } catch (IOException e) {
            LOG.debug("could not set {}: {}", knob, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends the session: unmounts (after at most the grace period, forcibly) and waits for the end. */
    public void stop() {
        requestStop();
        if (workers.contains(Thread.currentThread())) {
            return;
        }
        try {
            if (!exited.await(UNMOUNT_GRACE.plus(STOP_TIMEOUT).toNanos(), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("FUSE session at " + mountPoint + " did not end; is a request blocked?");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }

    public void awaitExit() throws InterruptedException {
        exited.await();
    }

    private void requestStop() {
        if (stopRequested.compareAndSet(false, true)) {
            Thread t = DaemonThreads.daemon(this::unmountGracefullyThenForce, "daxfs-kfuse-stopper");
            stopper = t;
            t.start();
        }
    }

    /**
     * A plain unmount succeeds once nothing under the mount is in use, and then the kernel ends the
     * connection, which wakes every worker. Until then the workers keep serving the open files.
     */
    private void unmountGracefullyThenForce() {
        boolean forced = Unmounter.unmountWithin(entry, UNMOUNT_GRACE, () -> workersDone,
                () -> LOG.warn("{} still busy after {}; aborting the connection", mountPoint, UNMOUNT_GRACE));
        if (forced) {
            Unmounter.abortConnection(entry);
        }
    }

    private void superviseAndClose() {
        try {
            for (Thread w : workers) {
                DaemonThreads.joinUninterruptibly(w);
            }
            workersDone = true;
            stopRequested.set(true);
            Thread s = stopper;
            if (s != null) {
                DaemonThreads.joinUninterruptibly(s);
            }
            mount.unmount(); // the connection is gone: this only closes the descriptor
        } catch (RuntimeException | Error e) {
            LOG.error("closing the FUSE session at {} failed", mountPoint, e);
        } finally {
            exited.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running and finds the session ended
            }
        }
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException e) {
            LOG.error("could not stop the FUSE session at {} on shutdown", mountPoint, e);
        }
    }

}
