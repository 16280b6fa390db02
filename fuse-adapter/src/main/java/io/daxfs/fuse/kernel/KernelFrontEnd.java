package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.mount.FrontEnd;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.options.MountOptions;

import java.nio.file.Path;

/**
 * The kernel front end ({@code -o frontend=kernel}, the default): daxfs reads the FUSE requests
 * from /dev/fuse itself ({@link KernelSession}, {@link KernelFileSystem}); libfuse 2 only mounts
 * ({@link KernelMount}). docs/kernel-frontend.md.
 */
public record KernelFrontEnd(MountOptions options) implements FrontEnd {
    @Override
    public String name() {
        return "kernel";
    }

    /** The native downcall handles of the mount and of /dev/fuse: tens of milliseconds each. */
    @Override
    public void prepare() {
        KernelMount.prepare();
    }

    @Override
    public MountSession mount(DaxFileSystem fs, String fsname, Path mountPoint, int threads) {
        KernelFileSystem kfs = new KernelFileSystem(fs, KernelOptions.from(options));
        return KernelSession.start(kfs, mountPoint, options.kernelMountOptions(fsname), threads);
    }

    /** As above, serving leases of {@code device} (docs/leases.md). */
    @Override
    public MountSession mount(DaxFileSystem fs, OpenedDevice device, Path mountPoint, int threads) {
        KernelFileSystem kfs = new KernelFileSystem(fs, KernelOptions.from(options), LeaseDevice.of(device));
        return KernelSession.start(kfs, mountPoint,
                options.kernelMountOptions(device.path().toAbsolutePath().toString()), threads);
    }
}
