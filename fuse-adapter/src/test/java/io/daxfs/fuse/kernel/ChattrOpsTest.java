package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.inode.ChattrFlags;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static io.daxfs.fuse.kernel.ChattrOps.FS_IOC_FSGETXATTR;
import static io.daxfs.fuse.kernel.ChattrOps.FS_IOC_FSSETXATTR;
import static io.daxfs.fuse.kernel.ChattrOps.FS_IOC_GETFLAGS;
import static io.daxfs.fuse.kernel.ChattrOps.FS_IOC_SETFLAGS;
import static io.daxfs.fuse.kernel.FuseAbi.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The chattr ioctls at the FUSE level, as fs/fuse/ioctl.c fuse_priv_ioctl writes them: the
 * flags word (4 bytes) or struct fsxattr (28 bytes) after fuse_ioctl_in, the answer after
 * fuse_ioctl_out; the caller's uid from the request header; an immutable file refuses OPEN for
 * writing. ChattrTest (integration-tests) drives the same through a mount with chattr and lsattr.
 */
class ChattrOpsTest {
    private static final int EPERM = 1;
    private static final int EOPNOTSUPP = 95;
    private static final int XFLAG_IMMUTABLE = 0x8;
    private static final int XFLAG_APPEND = 0x10;
    private static final int XFLAG_NODUMP = 0x80;

    @TempDir
    Path dir;

    private KernelDriver k;
    private int uid;
    private long ino;

    @BeforeEach
    void setUp() {
        k = new KernelDriver(dir);
        ino = k.fs.create(DaxFileSystem.ROOT, "f", 0644, 1000, 1000);
    }

    @AfterEach
    void tearDown() {
        k.close();
    }

    private ByteBuffer send(int opcode, byte[] args) {
        return k.sendAs(opcode, ino, args, uid, uid, (int) ProcessHandle.current().pid());
    }

    /** An IOCTL of {@code command}; {@code data}: the in data (SET) or null (GET, {@code outSize} bytes back). */
    private ByteBuffer ioctl(int command, byte[] data, int outSize) {
        return k.ioctl(ino, uid, command, data, outSize);
    }

    private static byte[] word(int flags) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(flags).array();
    }

    private static byte[] fsxattr(int xflags, int projid) {
        return ByteBuffer.allocate(ChattrOps.FSXATTR_SIZE).order(ByteOrder.LITTLE_ENDIAN).putInt(0, xflags)
                .putInt(12, projid).array();
    }

    private int getflags() {
        ByteBuffer r = ioctl(FS_IOC_GETFLAGS, null, 4);
        assertEquals(0, r.getInt(4), "errno");
        assertEquals(OUT_HEADER_SIZE + IOCTL_OUT_SIZE + 4, r.getInt(0), "reply length");
        return r.getInt(OUT_HEADER_SIZE + IOCTL_OUT_SIZE);
    }

    private int xflags() {
        ByteBuffer r = ioctl(FS_IOC_FSGETXATTR, null, ChattrOps.FSXATTR_SIZE);
        assertEquals(0, r.getInt(4), "errno");
        assertEquals(OUT_HEADER_SIZE + IOCTL_OUT_SIZE + ChattrOps.FSXATTR_SIZE, r.getInt(0), "reply length");
        return r.getInt(OUT_HEADER_SIZE + IOCTL_OUT_SIZE);
    }

    @Test
    void setflagsAndFssetxattrStoreWhatGetflagsAndFsgetxattrShow() {
        assertEquals(0, getflags());
        ByteBuffer set = ioctl(FS_IOC_SETFLAGS, word(ChattrFlags.IMMUTABLE | ChattrFlags.DIRSYNC), 0);
        assertEquals(NOTIFY_INVAL_INODE, set.getInt(4), "first the kernel's cached attributes go (ctime moved)");
        assertEquals(ino, set.getLong(OUT_HEADER_SIZE));
        int notice = set.getInt(0);
        assertEquals(0, set.getInt(notice + 4), "then the reply");
        assertEquals(ChattrFlags.IMMUTABLE | ChattrFlags.DIRSYNC, getflags());
        assertEquals(XFLAG_IMMUTABLE, xflags(), "DIRSYNC has no xflag");
        assertEquals(NOTIFY_INVAL_INODE, ioctl(FS_IOC_FSSETXATTR, fsxattr(XFLAG_APPEND | XFLAG_NODUMP, 0), 0).getInt(4));
        assertEquals(ChattrFlags.APPEND | ChattrFlags.NODUMP | ChattrFlags.DIRSYNC, getflags(),
                "FSSETXATTR keeps the flags xflags cannot say");
        assertEquals(XFLAG_APPEND | XFLAG_NODUMP, xflags());
        assertEquals(-EOPNOTSUPP, ioctl(FS_IOC_FSSETXATTR, fsxattr(XFLAG_APPEND, 7), 0).getInt(4), "a project id");
        assertEquals(-EOPNOTSUPP, ioctl(FS_IOC_FSSETXATTR, fsxattr(0x4000, 0), 0).getInt(4), "an unknown xflag");
        assertEquals(-EOPNOTSUPP, ioctl(FS_IOC_SETFLAGS, word(0x4), 0).getInt(4), "'c' compression");
    }

    @Test
    void theCallersUidDecidesAndAnImmutableFileOpensOnlyForReading() {
        uid = 1000; // the owner
        assertEquals(NOTIFY_INVAL_INODE, ioctl(FS_IOC_SETFLAGS, word(ChattrFlags.NODUMP), 0).getInt(4));
        assertEquals(-EPERM, ioctl(FS_IOC_SETFLAGS, word(ChattrFlags.IMMUTABLE), 0).getInt(4));
        uid = 1001;
        assertEquals(-EPERM, ioctl(FS_IOC_SETFLAGS, word(0), 0).getInt(4));
        uid = 0;
        assertEquals(NOTIFY_INVAL_INODE, ioctl(FS_IOC_SETFLAGS, word(ChattrFlags.IMMUTABLE), 0).getInt(4));
        assertEquals(-EPERM, send(OPEN, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 1).array())
                .getInt(4), "O_WRONLY");
        assertEquals(-EPERM, send(OPEN, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 01000).array())
                .getInt(4), "O_RDONLY|O_TRUNC");
        assertEquals(0, send(OPEN, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0).array())
                .getInt(4), "O_RDONLY");
    }
}
