package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.inode.ChattrFlags;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.options.PermissionPolicy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.daxfs.fuse.kernel.ChattrOps.FS_IOC_FSGETXATTR;
import static io.daxfs.fuse.kernel.ChattrOps.FS_IOC_FSSETXATTR;
import static io.daxfs.fuse.kernel.ChattrOps.FS_IOC_GETFLAGS;
import static io.daxfs.fuse.kernel.ChattrOps.FS_IOC_SETFLAGS;
import static io.daxfs.fuse.kernel.FuseAbi.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    private OpenedDevice device;
    private DaxFileSystem fs;
    private KernelFileSystem kfs;
    private Arena arena;
    private Path replies;
    private Request request;
    private Reply reply;
    private MemorySegment in;
    private long unique = 1;
    private int uid;
    private long ino;

    @BeforeEach
    void setUp() throws Throwable {
        device = DeviceOpener.open(dir.resolve("img"), DeviceOptions.builder().createSize(32 << 20).build());
        DaxFileSystem.format(device.region(), FormatOptions.defaults());
        fs = DaxFileSystem.mount(device.region());
        kfs = new KernelFileSystem(fs, KernelOptions.defaults(PermissionPolicy.DAEMON_ACL));
        arena = Arena.ofConfined();
        replies = dir.resolve("replies");
        Files.createFile(replies);
        MethodHandle open = Linker.nativeLinker().downcallHandle(Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2));
        int fd = (int) open.invokeExact(arena.allocateFrom(replies.toString()), 02 | 02000); // O_RDWR | O_APPEND
        assertTrue(fd >= 0);
        FuseChannel channel = new FuseChannel(fd);
        kfs.connect(channel, "");
        in = arena.allocate(1 << 16);
        request = new Request(in);
        reply = new Reply(channel, arena.allocate(1 << 16), FuseChannel.newCallState(arena), arena.allocate(Reply.NOTICE_SIZE));
        ino = fs.create(DaxFileSystem.ROOT, "f", 0644, 1000, 1000);
    }

    @AfterEach
    void tearDown() {
        kfs.disconnect();
        arena.close();
        fs.close();
        device.close();
    }

    private ByteBuffer send(int opcode, byte[] args) throws Exception {
        long before = Files.size(replies);
        int len = IN_HEADER_SIZE + args.length;
        in.set(JAVA_INT_UNALIGNED, IN_LEN, len);
        in.set(JAVA_INT_UNALIGNED, IN_OPCODE, opcode);
        in.set(JAVA_LONG_UNALIGNED, IN_UNIQUE, unique++);
        in.set(JAVA_LONG_UNALIGNED, IN_NODEID, ino);
        in.set(JAVA_INT_UNALIGNED, IN_UID, uid);
        in.set(JAVA_INT_UNALIGNED, IN_GID, uid);
        in.set(JAVA_INT_UNALIGNED, IN_PID, (int) ProcessHandle.current().pid());
        MemorySegment.copy(MemorySegment.ofArray(args), 0, in, IN_HEADER_SIZE, args.length);
        request.reset(len);
        kfs.handle(request, reply);
        byte[] all = Files.readAllBytes(replies);
        return ByteBuffer.wrap(all, (int) before, (int) (all.length - before)).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** An IOCTL of {@code command}; {@code data}: the in data (SET) or null (GET, {@code outSize} bytes back). */
    private ByteBuffer ioctl(int command, byte[] data, int outSize) throws Exception {
        int inSize = data == null ? 0 : data.length;
        ByteBuffer a = ByteBuffer.allocate(IOCTL_IN_SIZE + inSize).order(ByteOrder.LITTLE_ENDIAN);
        a.putInt(IOCTL_IN_CMD, command).putInt(IOCTL_IN_IN_SIZE, inSize).putInt(IOCTL_IN_OUT_SIZE, outSize);
        if (data != null) {
            a.put(IOCTL_IN_SIZE, data);
        }
        return send(IOCTL, a.array());
    }

    private static byte[] word(int flags) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(flags).array();
    }

    private static byte[] fsxattr(int xflags, int projid) {
        return ByteBuffer.allocate(ChattrOps.FSXATTR_SIZE).order(ByteOrder.LITTLE_ENDIAN).putInt(0, xflags)
                .putInt(12, projid).array();
    }

    private int getflags() throws Exception {
        ByteBuffer r = ioctl(FS_IOC_GETFLAGS, null, 4);
        assertEquals(0, r.getInt(4), "errno");
        assertEquals(OUT_HEADER_SIZE + IOCTL_OUT_SIZE + 4, r.getInt(0), "reply length");
        return r.getInt(OUT_HEADER_SIZE + IOCTL_OUT_SIZE);
    }

    private int xflags() throws Exception {
        ByteBuffer r = ioctl(FS_IOC_FSGETXATTR, null, ChattrOps.FSXATTR_SIZE);
        assertEquals(0, r.getInt(4), "errno");
        assertEquals(OUT_HEADER_SIZE + IOCTL_OUT_SIZE + ChattrOps.FSXATTR_SIZE, r.getInt(0), "reply length");
        return r.getInt(OUT_HEADER_SIZE + IOCTL_OUT_SIZE);
    }

    @Test
    void setflagsAndFssetxattrStoreWhatGetflagsAndFsgetxattrShow() throws Exception {
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
    void theCallersUidDecidesAndAnImmutableFileOpensOnlyForReading() throws Exception {
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
