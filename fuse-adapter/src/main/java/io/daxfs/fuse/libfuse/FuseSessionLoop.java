package io.daxfs.fuse.libfuse;

import io.daxfs.fuse.mount.FuseMountException;
import io.daxfs.fuse.mount.MountPointCheck;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.mount.MountTable;

import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import ru.serce.jnrfuse.AbstractFuseFS;

import java.lang.ref.Reference;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Serves a jnr-fuse file system with libfuse 2's session loop driven by a fixed pool of Java
 * threads, instead of jnr-fuse's fuse_main_real (whose worker threads are native threads that jffi
 * attaches to the JVM and detaches again on every callback). The pool, its supervisor and the stop
 * are the {@link MountSession} both front ends share; this class is libfuse's part of it.
 *
 * <p>Lifecycle: {@link Builder#mount()} mounts synchronously (fuse_setup), starts the workers and
 * returns their session; it throws {@link FuseMountException} if the mount fails.
 * {@link MountSession#awaitReady} waits until the file system answers requests.
 * {@link MountSession#stop()} unmounts (waiting a grace period for open files, then forcing), which
 * makes the kernel abort the connection and so wakes the workers blocked in read(/dev/fuse); the
 * supervisor thread joins them and calls fuse_teardown. The session also ends by itself when
 * someone else unmounts it; {@link MountSession#awaitExit()} returns once it has been torn down. A
 * JVM shutdown hook (SIGTERM, SIGINT, System.exit) calls {@link MountSession#stop()}.
 *
 * <p>Sizing ({@link MountSession}): every request in flight holds a worker until its callback
 * returns, so size the pool for the largest number of callbacks that may block at once.
 *
 * <p>Invariants: fuse_teardown runs exactly once, on the supervisor thread, after every worker has
 * returned from its last libfuse call and after the stopper's last call (fuse_session_exit):
 * libfuse's struct fuse_session must not be touched once fuse_teardown freed it
 * ({@link MountSession} guarantees the order). The struct fuse_operations copy, argv and the file system stay reachable from this
 * object, which the supervisor keeps reachable until then. Each worker's buffers are its own
 * ({@link FuseWorker}).
 *
 * <p>Lock order: this class takes no lock. The callbacks run on the workers holding nothing of it;
 * fuse_teardown calls the destroy callback on the supervisor, also holding nothing.
 */
public final class FuseSessionLoop {
    private final NativeOperations operations; // only held: keeps the struct and the FS's closures alive
    private final NativeArgv argv;             // only held: libfuse may keep pointers into argv
    private final MountSession session;

    /** {@code mountPointNative}: malloc'ed by fuse_setup, freed by fuse_teardown. */
    private FuseSessionLoop(Builder b, LibFuseSession lib, NativeOperations operations, NativeArgv argv,
                            Path mountPoint, Pointer fuse, Pointer mountPointNative, MountTable.Entry mount) {
        this.operations = operations;
        this.argv = argv;
        Pointer fuseSession = lib.fuse_get_session(fuse);
        Pointer channel = lib.fuse_session_next_chan(fuseSession, null);
        long bufferSize = lib.fuse_chan_bufsize(channel);
        MountSession.Settings settings = new MountSession.Settings("daxfs-fuse", b.threads, b.unmountGrace,
                b.stopTimeout, b.shutdownHook);
        this.session = new MountSession(settings, mountPoint, mount,
                s -> new FuseWorker(lib, fuseSession, channel, bufferSize, s::workerFailed), new MountSession.Connection() {
                    // Why the exit flag is not set first (as fuse_session_exit + lazy unmount would):
                    // a worker that sees the flag after reading a request drops that request
                    // unanswered. If it is the FLUSH of a close() under a busy (lazily detached)
                    // mount, that client waits forever, the file never gets released, the super block
                    // never dies, and the other workers never wake. So only once the grace is over.
                    @Override
                    public void beforeForcedUnmount() {
                        lib.fuse_session_exit(fuseSession); // workers busy in a callback stop after it
                    }

                    @Override
                    public void close() {
                        try {
                            lib.fuse_teardown(fuse, mountPointNative); // calls the destroy callback on this thread
                        } finally {
                            Reference.reachabilityFence(FuseSessionLoop.this); // operations, argv: alive until after teardown
                        }
                    }
                });
    }

    public static Builder builder(AbstractFuseFS fs, Path mountPoint) {
        return new Builder(fs, mountPoint);
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
        private Duration unmountGrace = MountSession.Settings.UNMOUNT_GRACE;
        private Duration stopTimeout = MountSession.Settings.STOP_TIMEOUT;

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
        public MountSession mount() {
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
            MountSession session;
            try {
                session = new FuseSessionLoop(this, lib, ops, argv, canonical, fuse, mountPointOut.getValue(),
                        MountTable.justMounted(canonical)).session;
                session.start();
            } catch (RuntimeException | Error e) {
                lib.fuse_teardown(fuse, mountPointOut.getValue()); // unmounts; no worker ran yet
                throw e;
            }
            return session;
        }
    }
}
