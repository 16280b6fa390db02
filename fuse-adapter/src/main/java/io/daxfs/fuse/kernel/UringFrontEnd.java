package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.mount.FrontEnd;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.options.MountOptions;

import java.nio.file.Path;

/**
 * The io_uring front end ({@code -o frontend=uring}): the kernel front end's protocol and
 * request handlers ({@link KernelFileSystem}) served through FUSE over io_uring (Linux 6.14+),
 * one ring per CPU, with /dev/fuse kept for INIT, forgets and interrupts ({@link UringSession}).
 * The mount fails with one line if the kernel cannot do it; {@code -o enable_uring} switches the
 * kernel's global {@code fuse.enable_uring} on first (as root). Mounted with its device it serves
 * leases as the kernel front end does (docs/leases.md). docs/uring-frontend.md.
 */
public record UringFrontEnd(MountOptions options) implements FrontEnd {
    /** /dev/fuse readers unless threads=N says otherwise: the ring carries the requests. */
    static final int DEFAULT_DEV_THREADS = 1;

    @Override
    public String name() {
        return "uring";
    }

    /** The downcall handles of the mount, of /dev/fuse and of the io_uring system calls. */
    @Override
    public void prepare() {
        KernelMount.prepare();
        LinuxCalls.prepare();
    }

    /**
     * Mounts and serves through the rings. {@code threads} (the daemon's default worker count)
     * is not used: the ring has one thread per CPU, and /dev/fuse gets {@code threads=N} if
     * the options say so, else {@value #DEFAULT_DEV_THREADS}.
     */
    @Override
    public MountSession mount(DaxFileSystem fs, String fsname, Path mountPoint, int threads) {
        UringSupport.require(options.enableUring());
        return start(new KernelFileSystem(fs, KernelOptions.from(options)), fsname, mountPoint);
    }

    /** As above, serving leases of {@code device} (docs/leases.md). */
    @Override
    public MountSession mount(DaxFileSystem fs, OpenedDevice device, Path mountPoint, int threads) {
        UringSupport.require(options.enableUring());
        KernelFileSystem kfs = new KernelFileSystem(fs, KernelOptions.from(options), LeaseDevice.of(device));
        return start(kfs, device.path().toAbsolutePath().toString(), mountPoint);
    }

    private MountSession start(KernelFileSystem kfs, String fsname, Path mountPoint) {
        return UringSession.start(kfs, mountPoint, options.kernelMountOptions(fsname),
                options.threads() > 0 ? options.threads() : DEFAULT_DEV_THREADS);
    }
}
