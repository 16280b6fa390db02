package io.daxfs.fuse;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The daemon: opens and locks the device, mounts the file system, serves FUSE until the
 * mount goes away (umount, fusermount -u, SIGTERM), then closes everything cleanly.
 */
public final class MountDaemon {
    private static final Logger LOG = LoggerFactory.getLogger(MountDaemon.class);

    private MountDaemon() {
    }

    /** Serves until unmounted. Throws if the device cannot be opened or mounted. */
    public static void serve(Path target, Path mountPoint, MountOptions options) throws Exception {
        try (OpenedDevice device = DeviceOpener.open(target, DeviceOptions.defaults())) {
            DaxFileSystem fs = DaxFileSystem.mount(device.region());
            LOG.info("daxfs {} on {}: {} ({} MiB, persistence: {})", target, mountPoint,
                    fs.superblock().uuid(), device.size() >> 20, device.mappingDescription());
            DaxfsFuse fuse = new DaxfsFuse(fs);
            Thread hook = new Thread(() -> {
                LOG.info("signal received: unmounting {}", mountPoint);
                fuse.umount();
            }, "daxfs-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            List<String> args = new ArrayList<>(options.fuseArgs(target.toAbsolutePath().toString()));
            fuse.mount(mountPoint, true, false, args.toArray(String[]::new));
            LOG.info("unmounted {}", mountPoint);
            fs.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // already running: nothing to remove
            }
        }
    }
}
