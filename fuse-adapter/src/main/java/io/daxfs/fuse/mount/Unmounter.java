package io.daxfs.fuse.mount;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.constants.platform.Errno;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Ends a FUSE mount. Workers blocked in read(/dev/fuse) wake (with ENODEV, upon which libfuse marks
 * the session exited) only when the kernel aborts the connection: when the super block dies (the
 * mount is gone and no file under it is open) or when the connection is aborted explicitly.
 *
 * <p>Every method first checks that the topmost mount at the mount point is still ours (same
 * device), so nothing ever unmounts a file system mounted over or after ours.
 */
public final class Unmounter {
    private static final System.Logger LOG = System.getLogger(Unmounter.class.getName());
    private static final int MNT_FORCE = 1;
    private static final int MNT_DETACH = 2;
    private static final Path FUSECTL = Path.of("/sys/fs/fuse/connections");

    public interface LibC {
        int umount2(String target, int flags);
    }

    private static final class Holder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).failImmediately().load("c");
    }

    private Unmounter() {
    }

    private static final long RETRY_MILLIS = 50;

    /**
     * How a session ends: a plain unmount, retried every 50 ms while files under the mount are
     * still in use (the session keeps serving them), until it succeeds or {@code ended} says the
     * session is over anyway; after {@code grace}, {@code beforeForce} runs and the unmount is
     * forced. Returns whether it was forced.
     */
    public static boolean unmountWithin(MountTable.Entry mount, Duration grace, BooleanSupplier ended,
                                        Runnable beforeForce) {
        long deadline = System.nanoTime() + grace.toNanos();
        while (!ended.getAsBoolean() && !tryUnmount(mount)) {
            if (System.nanoTime() - deadline >= 0) {
                beforeForce.run();
                forceUnmount(mount);
                return true;
            }
            try {
                Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                return false; // daemon thread; nobody interrupts it
            }
        }
        return false;
    }

    /**
     * A plain unmount: succeeds (returns true) only if nothing under the mount is in use, in which
     * case the kernel aborts the connection at once. Returns false while the mount is busy.
     */
    public static boolean tryUnmount(MountTable.Entry mount) {
        if (!isOurs(mount)) {
            return true; // already unmounted (e.g. by fusermount -u)
        }
        if (Holder.LIBC.umount2(mount.mountPoint(), 0) == 0) {
            return true;
        }
        int errno = lastErrno();
        if (errno == Errno.EBUSY.intValue()) {
            return false;
        }
        if (errno == Errno.EPERM.intValue()) {
            return fusermount("-u", mount.mountPoint()); // not root: the setuid helper unmounts our mounts
        }
        LOG.log(System.Logger.Level.WARNING, "umount2({0}) failed with errno {1}", mount.mountPoint(), errno);
        return !isOurs(mount);
    }

    /**
     * Unmounts even though files are open: MNT_FORCE makes FUSE abort the connection (pending
     * requests fail with ENOTCONN, readers of /dev/fuse wake), then MNT_DETACH removes the mount
     * from the namespace. Without privileges only a lazy fusermount and a fusectl abort are possible.
     */
    public static void forceUnmount(MountTable.Entry mount) {
        if (!isOurs(mount)) {
            abortConnection(mount); // detached but alive, e.g. after someone's umount -l
            return;
        }
        if (Holder.LIBC.umount2(mount.mountPoint(), MNT_FORCE) != 0 && lastErrno() == Errno.EPERM.intValue()) {
            fusermount("-uz", mount.mountPoint());
            if (!abortConnection(mount)) {
                LOG.log(System.Logger.Level.WARNING, "cannot abort the FUSE connection of {0}; its workers "
                        + "end when the last file under it is closed", mount.mountPoint());
            }
            return;
        }
        if (isOurs(mount)) {
            Holder.LIBC.umount2(mount.mountPoint(), MNT_DETACH); // MNT_FORCE returned EBUSY
        }
    }

    /**
     * Aborts the connection through fusectl (if mounted at /sys/fs/fuse/connections and writable):
     * the only way to reach a connection whose mount is already detached.
     */
    public static boolean abortConnection(MountTable.Entry mount) {
        Path abort = FUSECTL.resolve(Long.toString(mount.kernelDev())).resolve("abort");
        if (!Files.exists(abort)) {
            return false;
        }
        try {
            Files.writeString(abort, "1");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isOurs(MountTable.Entry mount) {
        return MountTable.find(Path.of(mount.mountPoint()))
                .map(e -> e.device().equals(mount.device()))
                .orElse(false);
    }

    private static int lastErrno() {
        return Runtime.getRuntime(Holder.LIBC).getLastError();
    }

    private static boolean fusermount(String flags, String mountPoint) {
        try {
            Process p = new ProcessBuilder("fusermount", flags, mountPoint)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot run fusermount " + flags + " " + mountPoint, e);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
