package io.daxfs.fuse.mount;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.devdax.OpenedDevice;

import java.nio.file.Path;

/**
 * One way of serving daxfs to the kernel: the kernel front end (daxfs's own FUSE protocol on
 * /dev/fuse) or the libfuse front end (libfuse 2's high-level API through jnr-fuse). The daemon
 * chooses one by the mount option {@code frontend=} and needs nothing else of it: it opens the
 * device and the file system, has the front end mount and serve it, waits for the session to
 * end, and closes the file system. Each front end derives its settings from the parsed mount
 * options it is made with.
 */
public interface FrontEnd {
    /** The value of {@code -o frontend=} that chooses this front end. */
    String name();

    /**
     * Set-up that needs nothing but the options, which the daemon runs on a thread of its own
     * while it opens the device (the kernel front end makes its native downcall handles there).
     * Safe from any thread, any number of times; a failure is reported again by {@link #mount}.
     */
    default void prepare() {
    }

    /**
     * Mounts {@code fs} at {@code mountPoint}, named {@code fsname} in the mount table (the
     * device), and starts serving it with {@code threads} workers.
     *
     * @throws FuseMountException if the mount point is unusable or the mount fails
     */
    MountSession mount(DaxFileSystem fs, String fsname, Path mountPoint, int threads);

    /**
     * Mounts {@code fs}, which lives on {@code device} (named by its path in the mount table):
     * a front end that serves leases (docs/leases.md) tells clients what to map. The default
     * serves none.
     */
    default MountSession mount(DaxFileSystem fs, OpenedDevice device, Path mountPoint, int threads) {
        return mount(fs, device.path().toAbsolutePath().toString(), mountPoint, threads);
    }
}
