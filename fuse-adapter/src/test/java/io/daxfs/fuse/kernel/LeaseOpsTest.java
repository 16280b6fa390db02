package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.fuse.options.PermissionPolicy;
import io.daxfs.lease.LeaseProtocol;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static io.daxfs.fuse.kernel.KernelDriver.ioctlOut;
import static io.daxfs.fuse.kernel.KernelDriver.le;
import static io.daxfs.lease.LeaseProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The lease protocol at the FUSE level, without a mount (docs/leases.md): IOCTL, POLL and
 * RELEASE requests built as the kernel writes them; replies and notifications go to a plain
 * file through the real {@link FuseChannel}. A real mount drives the same paths in the
 * integration tests (LeaseTest); this one checks the bytes.
 */
class LeaseOpsTest {
    private static final int ENOTTY = 25;
    private static final int EACCES = 13;
    private static final int EINVAL = 22;

    @TempDir
    Path dir;

    private KernelDriver k;
    private int uid;

    @BeforeEach
    void setUp() throws Exception {
        k = new KernelDriver(dir, (fs, device) ->
                new KernelFileSystem(fs, KernelOptions.defaults(PermissionPolicy.DAEMON_ACL), LeaseDevice.of(device)));
        Files.setPosixFilePermissions(dir.resolve("img"), PosixFilePermissions.fromString("rw-------"));
    }

    @AfterEach
    void tearDown() {
        k.close();
    }

    /** Sends one request from {@link #uid} and this process; returns everything written meanwhile (replies and notifications). */
    private ByteBuffer send(int opcode, long nodeid, byte[] args) {
        return k.sendFrom(uid, opcode, nodeid, args);
    }

    /** OPEN with open(2) flags; returns the file handle. */
    private long open(long ino, int flags) {
        ByteBuffer out = send(OPEN, ino, le(8).putInt(0, flags).array());
        assertEquals(0, out.getInt(4));
        return out.getLong(OUT_HEADER_SIZE + OPEN_OUT_FH);
    }

    /** An IOCTL of lease command {@code command} with the message body {@code body} (from byte 16). */
    private ByteBuffer ioctl(long nodeid, long fh, boolean dir, int command, ByteBuffer body) {
        ByteBuffer a = le(IOCTL_IN_SIZE + MESSAGE_SIZE);
        a.putLong(IOCTL_IN_FH, fh).putInt(IOCTL_IN_FLAGS, dir ? IOCTL_DIR : 0)
                .putInt(IOCTL_IN_CMD, ioctlNumber(command)).putInt(IOCTL_IN_IN_SIZE, MESSAGE_SIZE)
                .putInt(IOCTL_IN_OUT_SIZE, MESSAGE_SIZE);
        a.putInt(IOCTL_IN_SIZE + H_MAGIC, MAGIC).putShort(IOCTL_IN_SIZE + H_VERSION, (short) VERSION)
                .putShort(IOCTL_IN_SIZE + H_COMMAND, (short) command).putInt(IOCTL_IN_SIZE + H_LENGTH, MESSAGE_SIZE);
        if (body != null) {
            a.put(IOCTL_IN_SIZE + HEADER_SIZE, body.array());
        }
        return send(IOCTL, nodeid, a.array());
    }

    private ByteBuffer leaseBody(int mode, long offset, long length) {
        return le(24).putInt(0, mode).putLong(8, offset).putLong(16, length);
    }

    @Test
    void ioctlNumbersAreIowrOfTypeDaAndSize4096() {
        assertEquals(0xD000DA02, LeaseProtocol.ioctlNumber(LEASE));
        assertEquals(LEASE, LeaseProtocol.commandOf(0xD000DA02));
        assertEquals(-1, LeaseProtocol.commandOf(0x80086601), "FS_IOC_GETFLAGS is not ours");
        assertEquals(168, MAX_PIECES);
    }

    @Test
    void foreignIoctlsAndDaemonsWithoutADeviceAnswerEnotty() throws Exception {
        long ino = k.file("f", 4096);
        long fh = open(ino, 0);
        ByteBuffer a = le(IOCTL_IN_SIZE + 4).putLong(IOCTL_IN_FH, fh).putInt(IOCTL_IN_CMD, 0x81009431)
                .putInt(IOCTL_IN_OUT_SIZE, 256);
        assertEquals(-ENOTTY, send(IOCTL, ino, a.array()).getInt(4), "FS_IOC_GETFSLABEL");
        ByteBuffer flags = le(IOCTL_IN_SIZE + 4).putLong(IOCTL_IN_FH, fh).putInt(IOCTL_IN_CMD, 0x80086601)
                .putInt(IOCTL_IN_OUT_SIZE, 4);
        assertEquals(0, send(IOCTL, ino, flags.array()).getInt(4), "lsattr's FS_IOC_GETFLAGS is ChattrOps's");
        KernelFileSystem none = new KernelFileSystem(k.fs, KernelOptions.defaults(PermissionPolicy.DAEMON_ACL));
        k.servedBy(none, () -> assertEquals(-ENOTTY, ioctl(ino, open(ino, 0), false, DEVICE, null).getInt(4)));
    }

    @Test
    void eachOpenHasItsOwnHandleAndALeaseNamesTheExtents() throws Exception {
        long ino = k.file("f", 3 * 4096);
        long a = open(ino, 0);
        long b = open(ino, 0);
        assertNotEquals(a, b, "one file handle per open");
        ByteBuffer d = ioctlOut(ioctl(ino, a, false, DEVICE, null));
        assertEquals(KIND_FILE, d.getInt(DEV_KIND));
        assertEquals(4096, d.getLong(DEV_MAP_ALIGN));
        byte[] path = new byte[d.getInt(DEV_PATH_LENGTH)];
        d.get(DEV_PATH, path);
        assertEquals(dir.resolve("img").toAbsolutePath().toString(), new String(path, StandardCharsets.UTF_8));

        ByteBuffer l = ioctlOut(ioctl(ino, a, false, LEASE, leaseBody(MODE_READ, 0, 0)));
        assertEquals(3 * 4096, l.getLong(LR_LENGTH));
        assertEquals(1, l.getInt(LR_COUNT));
        assertEquals(0, l.getLong(LR_PIECES), "file offset");
        assertEquals(3 * 4096, l.getLong(LR_PIECES + 16), "length");
        assertEquals(LR_PIECES + PIECE_SIZE, l.getInt(H_LENGTH));
        assertEquals(1, k.fs.leases().count());

        assertEquals(-EACCES, ioctl(ino, a, false, LEASE, leaseBody(MODE_WRITE, 0, 0)).getInt(4),
                "a write lease on a read-only descriptor");
        assertEquals(0, send(RELEASE, ino, le(24).putLong(RELEASE_IN_FH, b).array()).getInt(4));
        assertEquals(1, k.fs.leases().count(), "the other open's release leaves a's lease");
        assertEquals(0, send(RELEASE, ino, le(24).putLong(RELEASE_IN_FH, a).array()).getInt(4));
        assertEquals(0, k.fs.leases().count(), "a's release drops it");
    }

    @Test
    void aCallerWhoMayNotOpenTheDeviceLearnsNothing() throws Exception {
        long ino = k.file("f", 4096);
        long fh = open(ino, 0);
        uid = 12345;
        assertEquals(-EACCES, ioctl(ino, fh, false, DEVICE, null).getInt(4));
        assertEquals(-EACCES, ioctl(ino, fh, false, LEASE, leaseBody(MODE_READ, 0, 0)).getInt(4));
        assertEquals(-EACCES, ioctl(ROOT_ID, 1, true, LIST, le(8)).getInt(4));
        assertEquals(0, k.fs.leases().count());
    }

    @Test
    void aBreakWakesThePollerAndPollSaysPollpri() throws Exception {
        long ino = k.file("f", 2 * 4096);
        long fh = open(ino, 0);
        ioctlOut(ioctl(ino, fh, false, LEASE, leaseBody(MODE_READ, 0, 0)));
        ByteBuffer poll = le(24).putLong(POLL_IN_FH, fh).putLong(POLL_IN_KH, 77).putInt(POLL_IN_FLAGS, POLL_SCHEDULE_NOTIFY)
                .putInt(POLL_IN_EVENTS, LeaseOps.POLLPRI);
        ByteBuffer p = send(POLL, ino, poll.array());
        assertEquals(LeaseOps.DEFAULT_POLLMASK, p.getInt(OUT_HEADER_SIZE), "not broken: a plain regular file");

        long before = k.writtenSoFar();
        k.fs.truncate(ino, 0); // as a SETATTR from another process would
        ByteBuffer n = k.writtenSince(before);
        assertEquals(OUT_HEADER_SIZE + 8, n.getInt(0), "FUSE_NOTIFY_POLL");
        assertEquals(NOTIFY_POLL, n.getInt(4));
        assertEquals(0, n.getLong(8), "unique 0: a notification");
        assertEquals(77, n.getLong(OUT_HEADER_SIZE), "the kernel's poll handle");

        p = send(POLL, ino, poll.array());
        assertEquals(LeaseOps.DEFAULT_POLLMASK | LeaseOps.POLLPRI, p.getInt(OUT_HEADER_SIZE));
        ByteBuffer st = ioctlOut(ioctl(ino, fh, false, STATUS, le(8)));
        assertEquals(1, st.getInt(ST_COUNT));
        assertEquals(1, st.getInt(ST_BROKEN));
        assertEquals(STATE_BROKEN, st.getInt(ST_RECORDS + STR_STATE));

        ByteBuffer ls = ioctlOut(ioctl(ROOT_ID, 1, true, LIST, le(8)));
        assertEquals(1, ls.getInt(LS_COUNT));
        assertEquals(2 * 4096, ls.getLong(LS_HELD_BUSY));
        assertEquals(ino, ls.getLong(LS_RECORDS + LSR_INO));
        assertEquals(2 * 4096, ls.getLong(LS_RECORDS + LSR_BUSY_BYTES));
        assertEquals(STATE_BROKEN, ls.getInt(LS_RECORDS + LSR_STATE));
        assertEquals(ProcessHandle.current().pid(), ls.getInt(LS_RECORDS + LSR_PID));
        assertEquals(-EINVAL, ioctl(ino, fh, false, LIST, le(8)).getInt(4), "LIST is for the mount's root");

        ByteBuffer u = ioctlOut(ioctl(ino, fh, false, UNLEASE, le(8)));
        assertEquals(1, u.getInt(R_DONE));
        assertEquals(0, k.fs.internals().busyExtents().busyBlocks(), "released: the blocks clear");
    }

    @Test
    void releasingAWriteLeaseInvalidatesTheMountsPagesOfItsRange() throws Exception {
        long ino = k.file("f", 4 * 4096);
        long fh = open(ino, 2); // O_RDWR
        ioctlOut(ioctl(ino, fh, false, LEASE, leaseBody(MODE_WRITE, 4096, 2 * 4096)));
        ByteBuffer all = send(RELEASE, ino, le(24).putLong(RELEASE_IN_FH, fh).array());
        // The notification (sent by the notifier thread, waited for) comes before the reply.
        assertEquals(OUT_HEADER_SIZE + 24, all.getInt(0));
        assertEquals(NOTIFY_INVAL_INODE, all.getInt(4));
        assertEquals(ino, all.getLong(OUT_HEADER_SIZE));
        assertEquals(4096, all.getLong(OUT_HEADER_SIZE + 8), "offset");
        assertEquals(2 * 4096, all.getLong(OUT_HEADER_SIZE + 16), "length");
        assertEquals(0, all.getInt(OUT_HEADER_SIZE + 24 + 4), "then the RELEASE reply");
        assertEquals(0, k.fs.leases().count());
    }
}
