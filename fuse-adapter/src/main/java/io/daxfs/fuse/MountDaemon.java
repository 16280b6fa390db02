package io.daxfs.fuse;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.inspect.Inspection;
import io.daxfs.core.inspect.JournalState;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.kernel.KernelFrontEnd;
import io.daxfs.fuse.kernel.UringFrontEnd;
import io.daxfs.fuse.libfuse.LibfuseFrontEnd;
import io.daxfs.fuse.mount.DaemonThreads;
import io.daxfs.fuse.mount.ExitingDaemons;
import io.daxfs.fuse.mount.FrontEnd;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.options.MountOptions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * The daemon: opens and locks the device, mounts the file system, has the front end the mount
 * options choose serve it until the mount goes away (umount, fusermount -u, SIGTERM), then
 * closes everything cleanly.
 */
public final class MountDaemon {
    private static final Logger LOG = LoggerFactory.getLogger(MountDaemon.class);

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
        FrontEnd frontEnd = frontEnd(options);
        // The front end's native downcalls take a while to make; the other CPU makes them
        // while this thread opens and checks the device (docs/performance.md, mount time).
        DaemonThreads.daemon(frontEnd::prepare, "daxfs-prepare").start();
        try (OpenedDevice device = open(target, options)) {
            String recovery = options.readOnly() ? null : recoveryToDo(device);
            long started = System.nanoTime();
            DaxFileSystem fs = DaxFileSystem.mount(device.region(), options.settings());
            if (recovery != null) {
                LOG.info("journal recovery on {}: {} ({} ms)", target, recovery, (System.nanoTime() - started) / 1_000_000);
            }
            for (String note : fs.mountNotes()) {
                // On stdout too: the detaching parent relays these lines (MountCommand).
                System.out.println("daxfs mount: note: " + note);
                LOG.warn("read-only mount despite: {}", note);
            }
            int threads = options.threads() > 0 ? options.threads() : DEFAULT_THREADS;
            try (MountSession session = frontEnd.mount(fs, device, mountPoint.toAbsolutePath(), threads)) {
                LOG.info("mounted {} on {}: uuid {}, {} MiB, persistence: {}; {}, atime {}, errors={}, check={}; "
                                + "{} worker threads, {} front end{}",
                        target, mountPoint, fs.superblock().uuid(), device.size() >> 20, device.mappingDescription(),
                        options.readOnly() ? "read-only" : "read-write", atimeText(options.atimePolicy()),
                        options.settings().errors().name().toLowerCase().replace('_', '-'),
                        options.settings().check().name().toLowerCase(), session.threads(), frontEnd.name(),
                        options.debug() ? "; debug: one line per request" : "");
                session.awaitExit();
            }
            fs.close();
            LOG.info("unmounted {} from {}", target, mountPoint);
        }
    }

    /**
     * Opens the target: read-write and locked exclusively; with {@code -o ro} read-only (shared
     * lock), an image file through a private copy-on-write mapping so that a journal replay
     * stays in memory (a device cannot be mapped so: it is mapped read-only, and a mount that
     * would have to replay is refused).
     */
    static OpenedDevice open(Path target, MountOptions options) throws io.daxfs.devdax.DeviceException {
        if (!options.readOnly()) {
            return ExitingDaemons.open(target, DeviceOptions.defaults());
        }
        try {
            return ExitingDaemons.open(target, DeviceOptions.builder().readOnly(true).privateMapping(true).build());
        } catch (io.daxfs.devdax.DeviceException e) {
            if (e.reason() != io.daxfs.devdax.DeviceException.Reason.UNSUPPORTED) {
                throw e;
            }
            return ExitingDaemons.open(target, DeviceOptions.readOnlyOptions());
        }
    }

    /** The atime policy as mount options say it: "relatime", "noatime", "strictatime,nodiratime". */
    static String atimeText(io.daxfs.core.base.AtimePolicy p) {
        String mode = switch (p.mode()) {
            case RELATIME -> "relatime";
            case STRICT -> "strictatime";
            case NEVER -> "noatime";
        };
        return p.directories() || p.mode() == io.daxfs.core.base.AtimePolicy.Mode.NEVER ? mode : mode + ",nodiratime";
    }

    /**
     * What the mount about to happen will recover, read before it does (the device is locked
     * to this process, so nothing changes in between): the committed transaction it replays
     * and the orphaned inodes it frees; null if there is nothing to recover.
     */
    static String recoveryToDo(OpenedDevice device) {
        JournalState j;
        try {
            j = Inspection.of(device.region().readView()).journal();
        } catch (RuntimeException e) {
            return null; // not a daxfs, or damaged: the mount itself says what is wrong
        }
        java.util.List<String> parts = new java.util.ArrayList<>();
        if (j.pending()) {
            parts.add("replayed committed transaction " + j.pendingSeq() + " (" + j.pendingRecords() + " records, "
                    + j.pendingBytes() + " bytes)");
        }
        if (j.orphans() > 0) {
            parts.add("freed " + j.orphans() + " orphaned inode" + (j.orphans() == 1 ? "" : "s")
                    + " (unlinked while open, or an interrupted free)");
        }
        return parts.isEmpty() ? null : String.join("; ", parts);
    }

    /** The one place a front end is chosen: by the mount option frontend=kernel|uring|libfuse. */
    static FrontEnd frontEnd(MountOptions options) {
        return switch (options.frontEnd()) {
            case KERNEL -> new KernelFrontEnd(options);
            case URING -> new UringFrontEnd(options);
            case LIBFUSE -> new LibfuseFrontEnd(options);
        };
    }
}
