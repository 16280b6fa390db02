package io.daxfs.fuse;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.daxfs.fuse.session.FuseOperationFlag;
import io.daxfs.fuse.session.FuseSessionLoop;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The daemon: opens and locks the device, mounts the file system, serves FUSE until the
 * mount goes away (umount, fusermount -u, SIGTERM), then closes everything cleanly.
 */
public final class MountDaemon {
    private static final Logger LOG = LoggerFactory.getLogger(MountDaemon.class);

    /** Worker threads when -o threads=N is not given: enough for blocking requests in flight. */
    static final int DEFAULT_THREADS = 8;

    private MountDaemon() {
    }

    /** Serves until unmounted. Throws if the device cannot be opened or mounted. */
    public static void serve(Path target, Path mountPoint, MountOptions options) throws Exception {
        try (OpenedDevice device = DeviceOpener.open(target, DeviceOptions.defaults())) {
            DaxFileSystem fs = DaxFileSystem.mount(device.region(), options.atimePolicy());
            LOG.info("daxfs {} on {}: {} ({} MiB, persistence: {}, atime: {})", target, mountPoint,
                    fs.superblock().uuid(), device.size() >> 20, device.mappingDescription(), options.atimePolicy());
            DaxfsFuse fuse = new DaxfsFuse(fs, options.xattrs());
            List<String> args = new ArrayList<>(options.fuseArgs(target.toAbsolutePath().toString()));
            // A fixed pool of JVM threads drives libfuse's session loop: callbacks never pay
            // jffi's per-call attach/detach of native threads (docs/benchmarks.md).
            try (FuseSessionLoop loop = FuseSessionLoop.builder(fuse, mountPoint.toAbsolutePath())
                    .programName("daxfs")
                    .options(args)
                    .threads(options.threads() > 0 ? options.threads() : DEFAULT_THREADS)
                    .flags(EnumSet.of(FuseOperationFlag.UTIME_OMIT_OK))
                    .mount()) {
                LOG.info("serving {} with {} FUSE worker threads", mountPoint, loop.threads());
                loop.awaitExit();
            }
            LOG.info("unmounted {}", mountPoint);
            fs.close();
        }
    }
}
