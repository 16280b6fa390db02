package io.daxfs.fuse.mount;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A mounted FUSE connection served by a fixed pool of worker threads: the lifecycle both front
 * ends share, written once. A front end mounts, creates the session with its worker loop and its
 * {@link Connection}, and {@link #start}s it.
 *
 * <p>Lifecycle: {@link #start} starts the workers and a supervisor. The session ends when the
 * kernel ends the connection - every worker's read of /dev/fuse then fails with ENODEV and the
 * worker returns: after an external umount, or after {@link #stop()}, which unmounts normally as
 * soon as nothing under the mount is in use (the workers serve the open files meanwhile) and
 * forces the unmount after the grace period. The supervisor joins the workers, waits for a running
 * stopper, then has the front end close its connection; {@link #awaitExit} returns after that. A
 * JVM shutdown hook (SIGTERM, SIGINT, System.exit) calls {@link #stop()}.
 *
 * <p>Sizing: the pool never grows. A request in flight holds its worker until it is answered, so
 * the pool bounds how many requests can wait at once (for a range lock, or up to 5 s for busy
 * extents at ENOSPC); size it for those plus headroom for the fast ones. More requests wait in
 * the kernel's queue.
 *
 * <p>Invariants: a stop is requested once, and at most one stopper thread ever runs; once the
 * supervisor has looked for the stopper no stopper starts ({@link #stopRequested} and
 * {@link #stopper} change together, under this object's monitor). So {@link Connection#close}
 * runs exactly once, on the supervisor thread, after every worker has returned and after the
 * stopper, if any, has finished: a front end's forced-unmount hooks never race its close, and
 * {@link #awaitExit} returns only once the mount is gone and the connection closed.
 *
 * <p>Lock order: this object's monitor is a leaf, held only to start or read the stopper and the
 * readiness probe (starting a thread is all it does inside). The workers, the stopper and the
 * supervisor run the front end's code holding nothing of this class, so the front end's locks and
 * fs-core's ({@link io.daxfs.core.concurrent.LockOrder}) are taken as if this class did not
 * exist.
 */
public final class MountSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MountSession.class);

    /**
     * How a session runs.
     *
     * @param threadPrefix names the session's threads: {@code PREFIX-DIR-ROLE}, DIR the mount
     *                     point's last component and ROLE a worker's index, "supervisor",
     *                     "stopper" or "shutdown"
     * @param threads      worker threads, fixed for the session's life
     * @param unmountGrace how long {@link #stop()} lets files under the mount stay open (serving
     *                     them, retrying a normal unmount) before it forces the unmount
     * @param stopTimeout  how long {@link #stop()} then waits for the workers to return
     * @param shutdownHook whether JVM shutdown (SIGTERM, SIGINT, System.exit) stops the session
     */
    public record Settings(String threadPrefix, int threads, Duration unmountGrace, Duration stopTimeout,
                           boolean shutdownHook) {
        public static final Duration UNMOUNT_GRACE = Duration.ofSeconds(2);
        public static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

        public Settings {
            Objects.requireNonNull(threadPrefix, "threadPrefix");
            Objects.requireNonNull(unmountGrace, "unmountGrace");
            Objects.requireNonNull(stopTimeout, "stopTimeout");
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1: " + threads);
            }
        }

        /** A grace of 2 s, a stop timeout of 30 s, and the shutdown hook. */
        public static Settings of(String threadPrefix, int threads) {
            return new Settings(threadPrefix, threads, UNMOUNT_GRACE, STOP_TIMEOUT, true);
        }
    }

    /** What a front end does at the ends of the lifecycle that only it knows how to do. */
    public interface Connection {
        /** On the stopper thread, when the grace has run out, just before the unmount is forced. */
        default void beforeForcedUnmount() {
        }

        /** On the stopper thread, after the unmount was forced. */
        default void afterForcedUnmount() {
        }

        /**
         * Closes the connection: exactly once, on the supervisor thread, after every worker has
         * returned and the stopper, if any, has finished.
         */
        void close();
    }

    private final Settings settings;
    private final Path mountPoint;
    private final MountTable.Entry mount;
    private final Connection connection;
    private final String name;
    private final List<Thread> workers = new ArrayList<>();
    private final Thread supervisor;
    private final Thread shutdownHook;
    private final CountDownLatch exited = new CountDownLatch(1);
    private volatile boolean workersDone;
    /** Guarded by this: set by the first stop request, or by the supervisor once the workers are gone. */
    private boolean stopRequested;
    /** Guarded by this: the thread that unmounts, started by the first stop request. */
    private Thread stopper;
    /** Guarded by this: completes once a stat of the mount point has returned ({@link #awaitReady}). */
    private CompletableFuture<Void> readyProbe;

    /**
     * A session of the mount {@code mount} at {@code mountPoint}; nothing runs until
     * {@link #start}. {@code newWorker} makes each worker's loop (called {@code threads} times,
     * here): it serves requests until the connection ends, and reports an error that ends it
     * early to {@link #workerFailed}.
     */
    public MountSession(Settings settings, Path mountPoint, MountTable.Entry mount,
                        Function<MountSession, Runnable> newWorker, Connection connection) {
        this.settings = settings;
        this.mountPoint = mountPoint;
        this.mount = mount;
        this.connection = connection;
        this.name = mountPoint.getFileName() == null ? "root" : mountPoint.getFileName().toString();
        for (int i = 0; i < settings.threads(); i++) {
            workers.add(DaemonThreads.daemon(newWorker.apply(this), threadName(Integer.toString(i))));
        }
        supervisor = DaemonThreads.daemon(this::superviseAndClose, threadName("supervisor"));
        shutdownHook = settings.shutdownHook() ? new Thread(this::stopFromShutdownHook, threadName("shutdown")) : null;
    }

    /**
     * Waits until the file system has answered a request: a stat of the mount point from this JVM
     * (the kernel holds every request until the FUSE INIT handshake is done, and the stat itself
     * reaches the file system). Returns false on timeout or if the session ended first.
     */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        CompletableFuture<Void> probe;
        synchronized (this) {
            if (readyProbe == null) {
                readyProbe = startReadyProbe();
            }
            probe = readyProbe;
        }
        try {
            probe.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("readiness probe failed", e.getCause());
        }
        return isRunning() && !isStopping();
    }

    private CompletableFuture<Void> startReadyProbe() {
        CompletableFuture<Void> probe = new CompletableFuture<>();
        DaemonThreads.daemon(() -> {
            try {
                Files.readAttributes(mountPoint, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                // the file system answered, with an error: it is up all the same
            }
            probe.complete(null);
        }, threadName("ready-probe")).start();
        return probe;
    }

    /** Starts serving: registers the shutdown hook, starts the workers and the supervisor. Once. */
    public void start() {
        if (shutdownHook != null) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        workers.forEach(Thread::start);
        supervisor.start();
    }

    /** The mount point, as mounted: absolute and with symlinks resolved. */
    public Path mountPoint() {
        return mountPoint;
    }

    public int threads() {
        return workers.size();
    }

    /** True until the connection has been closed. */
    public boolean isRunning() {
        return exited.getCount() > 0;
    }

    /** True once a stop has been requested or the workers have ended. */
    public synchronized boolean isStopping() {
        return stopRequested;
    }

    /** The name of one of this session's threads: {@code PREFIX-DIR-ROLE}. */
    public String threadName(String role) {
        return settings.threadPrefix() + "-" + name + "-" + role;
    }

    /**
     * Ends the session and waits until the connection is closed. Idempotent and thread-safe.
     * Called on a worker thread (while it serves a request) it only starts the stop, since the
     * worker cannot wait for itself.
     *
     * <p>The mount is unmounted normally as soon as nothing under it is in use; until then (at
     * most the unmount grace) the workers keep serving the open files. After the grace the
     * unmount is forced: the connection is aborted and requests still pending fail with ENOTCONN.
     *
     * @throws IllegalStateException if the session did not end within grace + stop timeout (a
     *                               request that never returns), or if interrupted meanwhile
     */
    public void stop() {
        requestStop();
        if (workers.contains(Thread.currentThread())) {
            return;
        }
        Duration limit = settings.unmountGrace().plus(settings.stopTimeout());
        try {
            if (!exited.await(limit.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("FUSE session at " + mountPoint + " did not end within " + limit
                        + "; is a request blocked?");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the FUSE session at " + mountPoint, e);
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /** Blocks until the connection is closed (after {@link #stop()} or an external unmount). */
    public void awaitExit() throws InterruptedException {
        exited.await();
    }

    public boolean awaitExit(Duration timeout) throws InterruptedException {
        return exited.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The non-blocking part of {@link #stop()}, safe from any thread: starts the stopper, once. */
    public void requestStop() {
        synchronized (this) {
            if (stopRequested) {
                return;
            }
            stopRequested = true;
            stopper = DaemonThreads.daemon(this::unmountGracefullyThenForce, threadName("stopper"));
            stopper.start();
        }
    }

    /**
     * A worker leaves its loop because of an error rather than the end of the connection: the
     * other workers would wait for requests that never come, so the session stops. The first
     * such error is logged; those that follow while it stops are its fallout.
     */
    public void workerFailed(String reason, Throwable cause) {
        if (!isStopping()) {
            LOG.error("{}; stopping the FUSE session at {}", reason, mountPoint, cause);
            requestStop();
        }
    }

    /**
     * Unmounting is what ends the session: a plain unmount succeeds once nothing under the mount
     * is in use, and the kernel then ends the connection, which wakes every worker. Until then
     * the workers keep serving the open files.
     */
    private void unmountGracefullyThenForce() {
        boolean forced = Unmounter.unmountWithin(mount, settings.unmountGrace(), () -> workersDone, () -> {
            LOG.warn("{} still busy after {}; aborting the connection", mountPoint, settings.unmountGrace());
            connection.beforeForcedUnmount();
        });
        if (forced) {
            connection.afterForcedUnmount();
        }
    }

    private void superviseAndClose() {
        try {
            for (Thread worker : workers) {
                DaemonThreads.joinUninterruptibly(worker);
            }
            // Reached by stop() or because the connection went away (external unmount): either way
            // no worker touches the connection any more. A running stopper may still be detaching
            // the mount (the forced path aborts the connection first, which is what woke the
            // workers); awaitExit() promises the mount is gone, so wait for it.
            workersDone = true;
            Thread s;
            synchronized (this) {
                stopRequested = true; // no stopper starts from here on
                s = stopper;
            }
            if (s != null) {
                DaemonThreads.joinUninterruptibly(s);
            }
            connection.close();
        } catch (RuntimeException | Error e) {
            LOG.error("closing the FUSE session at {} failed", mountPoint, e);
        } finally {
            exited.countDown();
            removeShutdownHook();
        }
    }

    private void stopFromShutdownHook() {
        try {
            stop();
        } catch (RuntimeException e) {
            LOG.error("could not stop the FUSE session at {} on shutdown", mountPoint, e);
        }
    }

    private void removeShutdownHook() {
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to; it finds the session ended
            }
        }
    }

    @Override
    public String toString() {
        return "MountSession[" + mountPoint + ", " + workers.size() + " threads]";
    }
}
