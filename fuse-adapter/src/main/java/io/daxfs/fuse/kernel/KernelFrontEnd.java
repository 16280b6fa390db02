package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.mount.FrontEnd;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.options.MountOptions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        KernelOptions o = KernelOptions.from(options);
        KernelFileSystem kfs = new KernelFileSystem(fs, o);
        return KernelSession.start(kfs, mountPoint, readLimit(o, options.kernelMountOptions(fsname)), threads);
    }

    /** As above, serving leases of {@code device} (docs/leases.md). */
    @Override
    public MountSession mount(DaxFileSystem fs, OpenedDevice device, Path mountPoint, int threads) {
        KernelOptions o = KernelOptions.from(options);
        KernelFileSystem kfs = new KernelFileSystem(fs, o, LeaseDevice.of(device));
        return KernelSession.start(kfs, mountPoint,
                readLimit(o, options.kernelMountOptions(device.path().toAbsolutePath().toString())), threads);
    }

    /**
     * The mount options with max_read added when READs are spliced and a worker's pipe cannot
     * take a READ of max_write bytes ({@link SplicedRead#largestRead}); a max_read the user gave
     * stays as given.
     */
    static List<String> readLimit(KernelOptions o, List<String> mountOptions) {
        if (o.spliceReadKib() == 0 || mountOptions.stream().anyMatch(m -> m.startsWith("max_read="))) {
            return mountOptions;
        }
        int largest = SplicedRead.largestRead(o.maxWrite());
        if (largest >= o.maxWrite() || largest < o.spliceReadKib() * 1024) {
            return mountOptions;
        }
        List<String> limited = new ArrayList<>(mountOptions);
        limited.add("max_read=" + largest);
        return limited;
    }
}
