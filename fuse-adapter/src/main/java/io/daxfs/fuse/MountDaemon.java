package io.daxfs.fuse;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.daxfs.fuse.kernel.KernelFileSystem;
import io.daxfs.fuse.kernel.KernelMount;
import io.daxfs.fuse.kernel.KernelOptions;
import io.daxfs.fuse.kernel.KernelSession;
import io.daxfs.fuse.mount.DaemonThreads;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.libfuse.FuseOperationFlag;
import io.daxfs.fuse.libfuse.FuseSessionLoop;
import io.daxfs.fuse.options.MountOptions;
import io.daxfs.fuse.libfuse.DaxfsFuse;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The daemon: opens and locks the device, mounts the file system, serves FUSE until the
 * mount goes away (umount, fusermount -u, SIGTERM), then closes everything cleanly.
 */
public final class MountDaemon {
    private static final Logger LOG = LoggerFactory.getLogger(MountDaemon.class);

    /**
     * UTIME_OMIT_OK: utimens understands UTIME_NOW/UTIME_OMIT. NULLPATH_OK: the callbacks that
     * have a file handle work without a path, which hard_remove needs (an unlinked open file
     * has none). NOPATH: libfuse does not even build the path for them, and jnr-fuse does not
     * decode it into a String: less work on every read and write.
     */
    static final Set<FuseOperationFlag> FLAGS = EnumSet.of(
            FuseOperationFlag.UTIME_OMIT_OK, FuseOperationFlag.NULLPATH_OK, FuseOperationFlag.NOPATH);

    /**
     * Worker threads when -o threads=N is not given: one per CPU, at least 2 (a request that
     * waits - for a range lock, or up to 5 s for busy extents at ENOSPC - must not stall the
     * mount) and at most 8. More threads than CPUs made every request slower here: the kernel
     * hands each request to the reader that has waited longest, so the pool rotates through
     * cold threads and pays a context switch per request. Measured on 2 CPUs
     * (docs/benchmarks.md, "Worker threads"): 5,000 small files created 4,200/s with 2 threads,
     * 3,100/s with 8; stat 57,000/s vs 34,000/s; 4-job random reads 180,000-270,000 IOPS with 2
     * threads, 190,000 with 8.
     */
    static final int DEFAULT_THREADS = Math.min(8, Math.max(2, Runtime.getRuntime().availableProcessors()));

    private MountDaemon() {
    }

    /** Serves until unmounted. Throws if the device cannot be opened or mounted. */
    public static void serve(Path target, Path mountPoint, MountOptions options) throws Exception {
        if (options.frontend() == MountOptions.Frontend.KERNEL) {
            // The front end's native downcalls take a while to make; the other CPU makes them
            // while this thread opens and checks the device (docs/performance.md, mount time).
            DaemonThreads.daemon(KernelMount::prepare, "daxfs-prepare").start();
        }
        try (OpenedDevice device = DeviceOpener.open(target, DeviceOptions.defaults())) {
            DaxFileSystem fs = DaxFileSystem.mount(device.region(), options.atimePolicy());
            LOG.info("daxfs {} on {}: {} ({} MiB, persistence: {}, atime: {})", target, mountPoint,
                    fs.superblock().uuid(), device.size() >> 20, device.mappingDescription(), options.atimePolicy());
            int threads = options.threads() > 0 ? options.threads() : DEFAULT_THREADS;
            if (options.frontend() == MountOptions.Frontend.KERNEL) {
                KernelFileSystem kfs = new KernelFileSystem(fs, KernelOptions.from(options));
                try (MountSession session = KernelSession.start(kfs, mountPoint.toAbsolutePath(),
                        options.kernelMountOptions(target.toAbsolutePath().toString()), threads)) {
                    LOG.info("serving {} with {} FUSE worker threads (kernel front end)", mountPoint, session.threads());
                    session.awaitExit();
                }
                LOG.info("unmounted {}", mountPoint);
                fs.close();
                return;
            }
            DaxfsFuse fuse = new DaxfsFuse(fs, options.xattrs(), options.permissions());
            List<String> args = new ArrayList<>(options.fuseArgs(target.toAbsolutePath().toString()));
            // A fixed pool of JVM threads drives libfuse's session loop: callbacks never pay
            // jffi's per-call attach/detach of native threads (docs/benchmarks.md).
            try (MountSession loop = FuseSessionLoop.builder(fuse, mountPoint.toAbsolutePath())
                    .programName("daxfs")
                    .options(args)
                    .threads(threads)
                    .flags(FLAGS)
                    .mount()) {
                LOG.info("serving {} with {} FUSE worker threads", mountPoint, loop.threads());
                loop.awaitExit();
            }
            LOG.info("unmounted {}", mountPoint);
            fs.close();
        }
    }
}
