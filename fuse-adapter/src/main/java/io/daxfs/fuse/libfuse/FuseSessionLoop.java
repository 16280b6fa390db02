package io.daxfs.fuse.libfuse;

import io.daxfs.fuse.mount.DaemonThreads;
import io.daxfs.fuse.mount.FuseMountException;
import io.daxfs.fuse.mount.MountPointCheck;
import io.daxfs.fuse.mount.MountTable;
import io.daxfs.fuse.mount.Unmounter;

import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import ru.serce.jnrfuse.AbstractFuseFS;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Serves a jnr-fuse file system with libfuse 2's session loop driven by a fixed pool of Java
 * threads, instead of jnr-fuse's fuse_main_real (whose worker threads are native threads that jffi
 * attaches to the JVM and detaches again on every callback).
 *
 * <p>Lifecycle: {@link Builder#mount()} mounts synchronously (fuse_setup) and starts the workers;
 * it throws {@link FuseMountException} if the mount fails. {@link #awaitReady} waits until the file
 * system answers requests. {@link #stop()} unmounts (waiting a grace period for open files, then
 * forcing), which makes the kernel abort the connection and so wakes the workers blocked in
 * read(/dev/fuse); a supervisor thread joins them and calls fuse_teardown. The session also ends by
 * itself when someone else unmounts it; {@link #awaitExit()} returns once it has been torn down. A
 * JVM shutdown hook (SIGTERM, SIGINT, System.exit) calls {@link #stop()}.
 *
 * <p>Sizing: the pool never grows. Every request in flight holds a worker until its callback
 * returns, so size it for the largest number of callbacks that may block at once (plus headroom for
 * the fast ones); when all workers are busy, further requests wait in the kernel queue.
 *
 * <p>Invariants: fuse_teardown runs exactly once, on the supervisor thread, after every worker has
 * returned from its last libfuse call; the struct fuse_operations copy, argv and the file system
 * stay reachable from this object, which the supervisor thread keeps reachable until then.
 */
public final class FuseSessionLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FuseSessionLoop.class.getName());

    private final LibFuseSession lib;
    private final NativeOperations operations; // only held: keeps the struct and the FS's closures alive
    private final NativeArgv argv;             // only held: libfuse may keep pointers into argv
    private final Path mountPoint;
    private final Pointer fuse;
    private final Pointer mountPointNative; // malloc'ed by fuse_setup, freed by fuse_teardown
    private final Pointer session;
    private final MountTable.Entry mount;
    private final String name;
    private final Duration unmountGrace;
    private final Duration stopTimeout;

    private final List<Thread> workers = new ArrayList<>();
    private final Thread supervisor;
    private final Thread shutdownHook;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    /** Guards {@link #tornDown}: the session must not be touched once fuse_teardown freed it. */
    private final Object sessionLock = new Object();
    private boolean tornDown;
    private final CountDownLatch exited = new CountDownLatch(1);
    private volatile Thread stopper;
    private volatile boolean workersDone;
    private volatile CompletableFuture<Void> readyProbe;

    private FuseSessionLoop(Builder b, LibFuseSession lib, NativeOperations operations, NativeArgv argv,
                            Path mountPoint, Pointer fuse, Pointer mountPointNative, MountTable.Entry mount) {
        this.lib = lib;
        this.operations = operations;
        this.argv = argv;
        this.mountPoint = mountPoint;
        this.fuse = fuse;
        this.mountPointNative = mountPointNative;
        this.session = lib.fuse_get_session(fuse);
        this.mount = mount;
        this.unmountGrace = b.unmountGrace;
        this.stopTimeout = b.stopTimeout;

        Pointer channel = lib.fuse_session_next_chan(session, null);
        long bufferSize = lib.fuse_chan_bufsize(channel);
        this.name = mountPoint.getFileName() == null ? "root" : mountPoint.getFileName().toString();
        for (int i = 0; i < b.threads; i++) {
            FuseWorker worker = new FuseWorker(lib, session, channel, bufferSize, this::workerFailed);
            workers.add(DaemonThreads.daemon(worker, threadName(Integer.toString(i))));
        }
        supervisor = DaemonThreads.daemon(this::superviseAndTearDown, threadName("supervisor"));
        shutdownHook = b.shutdownHook ? new Thread(this::stopFromShutdownHook, threadName("shutdown")) : null;
    }

    public static Builder builder(AbstractFuseFS fs, Path mountPoint) {
        return new Builder(fs, mountPoint);
    }

    /** The mount point, as mounted: absolute and with symlinks resolved. */
    public Path mountPoint() {
        return mountPoint;
    }

    public int threads() {
        return workers.size();
    }

    /** True until the session has been torn down. */
    public boolean isRunning() {
        return exited.getCount() > 0;
    }

    /**
     * Waits until the file system has answered a request: a stat of the mount point from this JVM
     * (the kernel holds every request until the FUSE INIT handshake is done, and the stat itself
     * reaches getattr("/")). Returns false on timeout or if the session ended first.
     */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        CompletableFuture<Void> probe = readyProbe;
        if (probe == null) {
            synchronized (this) {
                if (readyProbe == null) {
                    readyProbe = startReadyProbe();
                }
                probe = readyProbe;
            }
        }
        try {
            probe.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("readiness probe failed", e.getCause());
        }
        return isRunning() && !stopRequested.get();
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

    /**
     * Ends the session and waits until it has been torn down. Idempotent and thread-safe. Called on
     * a worker thread (from inside a callback) it only initiates the stop, since the worker cannot
     * wait for itself.
     *
     * <p>The mount is unmounted normally as soon as nothing under it is in use; until then (at most
     * the unmount grace) the workers keep serving the open files. After the grace the connection is
     * aborted (forced unmount): requests still pending fail with ENOTCONN.
     *
     * @throws IllegalStateException if the session did not end within grace + stop timeout (a
     *                               callback that never returns)
     */
    public void stop() {
        requestStop();
        if (workers.contains(Thread.currentThread())) {
            return;
        }
        try {
            if (!exited.await(unmountGrace.plus(stopTimeout).toNanos(), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("FUSE session at " + mountPoint + " did not end within "
                        + unmountGrace.plus(stopTimeout) + "; is a file system callback blocked?");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping FUSE session at " + mountPoint, e);
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /** Blocks until the session has been torn down (after {@link #stop()} or an external unmount). */
    public void awaitExit() throws InterruptedException {
        exited.await();
    }

    public boolean awaitExit(Duration timeout) throws InterruptedException {
        return exited.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Non-blocking part of stop, safe from any thread: starts the stopper once. */
    private void requestStop() {
        if (stopRequested.compareAndSet(false, true)) {
            Thread t = DaemonThreads.daemon(this::unmountGracefullyThenForce, threadName("stopper"));
            stopper = t;
            t.start();
        }
    }

    /**
     * Unmounting is what ends the session: once the kernel aborts the connection every worker's
     * read(/dev/fuse) fails with ENODEV, libfuse marks the session exited, and the workers return.
     *
     * <p>Why the exit flag is not set first (as fuse_session_exit + lazy unmount would): a worker
     * that sees the flag after reading a request drops that request unanswered. If it is the FLUSH
     * of a close() under a busy (lazily detached) mount, that client waits forever, the file never
     * gets released, the super block never dies, and the other workers never wake.
     */
    private void unmountGracefullyThenForce() {
        Unmounter.unmountWithin(mount, unmountGrace, () -> workersDone, () -> {
            LOG.log(System.Logger.Level.WARNING, "{0} still busy after {1}; aborting the connection",
                    mountPoint, unmountGrace);
            synchronized (sessionLock) {
                if (!tornDown) {
                    lib.fuse_session_exit(session); // workers busy in a callback stop after it
                }
            }
        });
    }

    private void workerFailed(String reason, Throwable cause) {
        if (!stopRequested.get()) {
            LOG.log(System.Logger.Level.ERROR, reason + "; stopping FUSE session at " + mountPoint, cause);
            requestStop(); // the other workers would otherwise wait for requests that never come
        }
    }

    private void superviseAndTearDown() {
        try {
            for (Thread worker : workers) {
                DaemonThreads.joinUninterruptibly(worker);
            }
            // Reached by stop() or because the connection went away (external unmount): either way
            // no thread touches the session any more, so tearing down is safe. A running stopper
            // may still be detaching the mount (the forced path aborts the connection first, which
            // is what woke the workers); awaitExit() promises the mount is gone, so wait for it.
            workersDone = true;
            stopRequested.set(true);
            Thread s = stopper;
            if (s != null) {
                DaemonThreads.joinUninterruptibly(s);
            }
            synchronized (sessionLock) {
                tornDown = true;
                lib.fuse_teardown(fuse, mountPointNative); // calls the destroy callback on this thread
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "fuse_teardown of " + mountPoint + " failed", t);
        } finally {
            exited.countDown();
            removeShutdownHook();
            Reference.reachabilityFence(this); // operations, argv: alive until after teardown
        }
    }

    private void stopFromShutdownHook() {
        try {
            stop();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "could not stop FUSE session at " + mountPoint + " on shutdown", e);
        }
    }

    private void removeShutdownHook() {
        if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
            try {
                java.lang.Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to; it finds the session already ended
            }
        }
    }

    private void start() {
        if (shutdownHook != null) {
            java.lang.Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        workers.forEach(Thread::start);
        supervisor.start();
    }

    private String threadName(String role) {
        return "daxfs-fuse-" + name + "-" + role;
    }


    @Override
    public String toString() {
        return "FuseSessionLoop[" + mountPoint + ", " + workers.size() + " threads, argv=" + argv + "]";
    }

    /** Options for a mount; {@link #mount()} performs it. */
    public static final class Builder {
        private final AbstractFuseFS fs;
        private final Path mountPoint;
        private final List<String> fuseArgs = new ArrayList<>();
        private int threads = 8;
        private Set<FuseOperationFlag> flags = EnumSet.of(FuseOperationFlag.UTIME_OMIT_OK);
        private String programName = "daxfs";
        private boolean debug;
        private boolean shutdownHook = true;
        private Duration unmountGrace = Duration.ofSeconds(2);
        private Duration stopTimeout = Duration.ofSeconds(30);

        private Builder(AbstractFuseFS fs, Path mountPoint) {
            this.fs = Objects.requireNonNull(fs, "fs");
            this.mountPoint = Objects.requireNonNull(mountPoint, "mountPoint");
        }

        /**
         * libfuse command-line options, e.g. "-o", "big_writes,max_write=131072,fsname=/img,subtype=daxfs".
         * "-f" is always passed (jnr-fuse cannot daemonize); "-s" is ignored (the pool decides).
         */
        public Builder options(String... args) {
            return options(List.of(args));
        }

        public Builder options(List<String> args) {
            fuseArgs.addAll(args);
            return this;
        }

        /** Number of worker threads (fixed for the session's life). Default 8. */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1: " + threads);
            }
            this.threads = threads;
            return this;
        }

        /**
         * Flags to set in struct fuse_operations (exactly these). Default: UTIME_OMIT_OK, so the
         * utimens callback must handle UTIME_NOW and UTIME_OMIT in tv_nsec.
         */
        public Builder flags(Set<FuseOperationFlag> flags) {
            this.flags = flags.isEmpty() ? EnumSet.noneOf(FuseOperationFlag.class) : EnumSet.copyOf(flags);
            return this;
        }

        /** argv[0]; libfuse derives the default subtype from it. Default "daxfs". */
        public Builder programName(String name) {
            this.programName = Objects.requireNonNull(name);
            return this;
        }

        /** Passes -d: libfuse logs every request to stderr. */
        public Builder debug(boolean debug) {
            this.debug = debug;
            return this;
        }

        /** Whether JVM shutdown (SIGTERM, SIGINT, System.exit) stops the session. Default true. */
        public Builder shutdownHook(boolean enabled) {
            this.shutdownHook = enabled;
            return this;
        }

        /**
         * How long stop() lets files under the mount stay open (serving them, retrying a normal
         * unmount) before it aborts the connection. Default 2 s.
         */
        public Builder unmountGrace(Duration grace) {
            this.unmountGrace = Objects.requireNonNull(grace);
            return this;
        }

        /** How long stop() then waits for the workers' callbacks to return before giving up. Default 30 s. */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /**
         * Mounts and starts serving.
         *
         * @throws FuseMountException if the mount point is missing, not a directory, not empty or
         *                            already mounted, or if fuse_setup fails
         */
        public FuseSessionLoop mount() {
            Path canonical = MountPointCheck.validate(mountPoint, fuseArgs);
            NativeOperations ops = NativeOperations.of(fs, FuseOperationsLayout.forCurrentPlatform(), flags);
            List<String> args = new ArrayList<>(List.of(programName, "-f"));
            if (debug) {
                args.add("-d");
            }
            args.add(canonical.toString());
            args.addAll(fuseArgs);
            NativeArgv argv = new NativeArgv(args);
            LibFuseSession lib = LibFuseSession.load();

            PointerByReference mountPointOut = new PointerByReference();
            Pointer fuse = lib.fuse_setup(argv.argc(), argv.argv(), ops.pointer(), ops.size(),
                    mountPointOut, new IntByReference(), null);
            if (fuse == null) {
                throw new FuseMountException("fuse_setup failed for " + canonical + " (argv: " + argv
                        + "); libfuse printed the reason on stderr: typically an unknown option, "
                        + "no access to /dev/fuse, or the mount point went away");
            }
            FuseSessionLoop loop;
            try {
                MountTable.Entry mount = MountTable.find(canonical).orElseThrow(
                        () -> new FuseMountException("fuse_setup succeeded but " + canonical + " is not in mountinfo"));
                loop = new FuseSessionLoop(this, lib, ops, argv, canonical, fuse, mountPointOut.getValue(), mount);
                loop.start();
            } catch (RuntimeException | Error e) {
                lib.fuse_teardown(fuse, mountPointOut.getValue()); // unmounts; no worker ran yet
                throw e;
            }
            return loop;
        }
    }
}
