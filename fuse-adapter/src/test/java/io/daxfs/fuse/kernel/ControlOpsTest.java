package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static io.daxfs.fuse.kernel.KernelDriver.error;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FITRIM and FS_IOC_SHUTDOWN at the FUSE level ({@link ControlOps}), root only. FITRIM answers
 * struct fstrim_range with the bytes released. After FS_IOC_SHUTDOWN every request
 * fails with EIO except STATFS, the releases, DESTROY and another shutdown, and the forgets are
 * dropped (a forget would free an unlinked file: a change). ShutdownTest (fs-core) checks that
 * nothing more reaches the device; the integration test ShutdownMountTest does it through a mount.
 */
class ControlOpsTest {
    private static final int EPERM = 1;
    private static final int EIO = 5;
    private static final int EINVAL = 22;

    @TempDir
    Path dir;

    private KernelDriver k;
    private long file;

    @BeforeEach
    void setUp() {
        k = new KernelDriver(dir);
        file = k.fs.create(DaxFileSystem.ROOT, "f", 0644, 1000, 1000);
    }

    @AfterEach
    void tearDown() {
        k.close();
    }

    private ByteBuffer trim(int uid, long start, long length, long minLength) {
        byte[] range = ByteBuffer.allocate(ControlOps.FSTRIM_RANGE_SIZE).order(ByteOrder.LITTLE_ENDIAN).putLong(start)
                .putLong(length).putLong(minLength).array();
        return k.ioctl(DaxFileSystem.ROOT, uid, ControlOps.FITRIM, range, ControlOps.FSTRIM_RANGE_SIZE);
    }

    @Test
    void fitrimAnswersTheBytesReleasedAndChecksItsArguments() {
        assertEquals(-EPERM, error(trim(1000, 0, -1L, 0)), "a user may not");
        long free = k.fs.internals().blockAllocator().freeBlocks() * 4096;
        ByteBuffer r = trim(0, 0, -1L, 0);
        assertEquals(0, error(r));
        assertEquals(OUT_HEADER_SIZE + IOCTL_OUT_SIZE + ControlOps.FSTRIM_RANGE_SIZE, r.getInt(0));
        assertEquals(0, r.getLong(OUT_HEADER_SIZE + IOCTL_OUT_SIZE), "start");
        assertEquals(free, r.getLong(OUT_HEADER_SIZE + IOCTL_OUT_SIZE + 8), "len: the bytes released");
        assertEquals(-EINVAL, error(trim(0, 0, 0, 0)), "length 0");
        assertEquals(-EINVAL, error(trim(0, -1L, 1 << 20, 0)), "start 2^64-1");
    }

    private ByteBuffer shutdown(int uid) {
        return k.ioctl(DaxFileSystem.ROOT, uid, ControlOps.FS_IOC_SHUTDOWN, null, 4);
    }

    private static byte[] name(String n) {
        byte[] b = n.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }

    @Test
    void onlyRootShutsDownAndThenEveryRequestButStatfsReleasesAndShutdownFailsWithEio() {
        assertEquals(-EPERM, error(shutdown(1000)), "a user may not");
        assertFalse(k.fs.control().isShutDown());
        assertEquals(0, error(k.send(GETATTR, file, new byte[16])), "served before");

        ByteBuffer down = shutdown(0);
        assertEquals(0, error(down));
        assertEquals(OUT_HEADER_SIZE + IOCTL_OUT_SIZE, down.getInt(0), "fuse_ioctl_out and no data");
        assertTrue(k.fs.control().isShutDown());

        assertEquals(-EIO, error(k.send(GETATTR, file, new byte[16])), "GETATTR");
        assertEquals(-EIO, error(k.send(LOOKUP, DaxFileSystem.ROOT, name("f"))), "LOOKUP");
        assertEquals(-EIO, error(k.send(OPEN, file, new byte[8])), "OPEN");
        assertEquals(-EIO, error(k.send(UNLINK, DaxFileSystem.ROOT, name("f"))), "UNLINK");
        assertEquals(-EIO, error(k.send(FSYNC, file, new byte[8])), "FSYNC (xfstests generic/623)");
        assertEquals(-EIO, error(k.send(SYNCFS, DaxFileSystem.ROOT, new byte[8])), "SYNCFS");
        assertEquals(-EIO, error(k.ioctl(file, 0, ChattrOps.FS_IOC_GETFLAGS, null, 4)), "another ioctl");
        assertEquals(0, error(k.send(STATFS, DaxFileSystem.ROOT, new byte[0])), "STATFS: df still works");
        assertEquals(0, error(k.send(RELEASE, file, new byte[24])), "RELEASE");
        assertEquals(0, error(k.send(RELEASEDIR, DaxFileSystem.ROOT, new byte[24])), "RELEASEDIR");
        assertEquals(0, error(shutdown(0)), "a second shutdown succeeds");
        ByteBuffer forget = k.send(FORGET, file, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1).array());
        assertEquals(0, forget.remaining(), "FORGET: no reply, as ever");
        assertEquals(file, k.fs.lookup(DaxFileSystem.ROOT, "f"), "nothing changed");
    }
}
