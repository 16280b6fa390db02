package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * umount(2) of a FUSE mount returns before the daemon that served it has closed the device;
 * a mount of the same image right after must not fail with "in use" (issue 14: xfstests'
 * cycle mounts did, on a busy machine). The exiting daemon is made slow on purpose here: it
 * is stopped (SIGSTOP) before the unmount and continued a second after the new mount began,
 * which waits for it ({@code ExitingDaemons}) and then mounts.
 */
@MountedDaxfs(size = "64M")
class UmountThenMountTest {
    private DaxfsMount m;

    @Test
    void aMountRightAfterAnUnmountWaitsForTheExitingDaemon() throws Exception {
        Files.writeString(m.path("kept"), "before");
        long old = m.pid();
        shOk("kill -STOP " + old);
        try {
            // umount2(2) itself: umount(8) would stat the mount point, which the stopped daemon
            // cannot answer.
            assertEquals("0", Daxfs.python("import ctypes, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                    + "print(libc.umount2(sys.argv[1].encode(), 0))", m.mnt).strip());
            assertTrue(DaxfsMount.mountType(m.mnt).isEmpty(), "unmounted");
            CompletableFuture<Void> mount = CompletableFuture.runAsync(() -> m.mount());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!m.logText().contains("waiting for it to exit") && !mount.isDone() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertFalse(mount.isDone(), "the new mount waits while the old daemon holds the image");
            assertTrue(m.logText().contains("waiting for it to exit"), m.logText());
            Thread.sleep(500);
            assertFalse(mount.isDone(), "and goes on waiting");
            shOk("kill -CONT " + old);
            mount.get(60, TimeUnit.SECONDS);
        } finally {
            shOk("kill -CONT " + old + " 2>/dev/null || true");
        }
        ProcessHandle.of(old).ifPresent(h -> h.onExit().orTimeout(30, TimeUnit.SECONDS).join()); // it exited
        assertEquals("before", Files.readString(m.path("kept")));
    }
}
