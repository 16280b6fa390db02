package io.daxfs.fuse.kernel;

import io.daxfs.core.Allocations;
import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request dispatcher without a mount: requests are built in memory as the kernel would
 * write them, replies go to a plain file through the real {@link FuseChannel}, and the test
 * reads them back. Covers what a mount cannot force: INIT negotiation, the no-reply opcodes,
 * unknown opcodes, negative entries and lookup counting.
 */
class KernelFileSystemTest {
    @TempDir
    Path dir;

    private OpenedDevice device;
    private DaxFileSystem fs;
    private KernelFileSystem kfs;
    private Arena arena;
    private int fd;
    private Path replies;
    private Request request;
    private Reply reply;
    private MemorySegment in;
    private long unique = 1;

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
        fd = (int) open.invokeExact(arena.allocateFrom(replies.toString()), 02 | 02000); // O_RDWR | O_APPEND
        assertTrue(fd >= 0);
        FuseChannel channel = new FuseChannel(fd);
        in = arena.allocate(1 << 16);
        request = new Request(in);
        reply = new Reply(channel, arena.allocate(1 << 16), FuseChannel.newCallState(arena), arena.allocate(Reply.NOTICE_SIZE));
    }

    @AfterEach
    void tearDown() {
        arena.close();
        fs.close();
        device.close();
    }

    /** Sends one request; returns what the dispatcher wrote (empty if nothing). */
    private ByteBuffer send(int opcode, long nodeid, byte[] args) throws Exception {
        long before = Files.size(replies);
        int len = IN_HEADER_SIZE + args.length;
        in.set(JAVA_INT_UNALIGNED, IN_LEN, len);
        in.set(JAVA_INT_UNALIGNED, IN_OPCODE, opcode);
        in.set(JAVA_LONG_UNALIGNED, IN_UNIQUE, unique++);
        in.set(JAVA_LONG_UNALIGNED, IN_NODEID, nodeid);
        in.set(JAVA_INT_UNALIGNED, IN_UID, 0);
        in.set(JAVA_INT_UNALIGNED, IN_GID, 0);
        in.set(JAVA_INT_UNALIGNED, IN_PID, 1);
        MemorySegment.copy(MemorySegment.ofArray(args), 0, in, IN_HEADER_SIZE, args.length);
        request.reset(len);
        kfs.handle(request, reply);
        byte[] all = Files.readAllBytes(replies);
        return ByteBuffer.wrap(all, (int) before, (int) (all.length - before)).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] args(int size) {
        return new byte[size];
    }

    private static byte[] name(String n) {
        byte[] b = n.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(b, b.length + 1);
    }

    @Test
    void initAgreesOnTheFlagsBothSidesWant() throws Exception {
        ByteBuffer in = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        long offered = ASYNC_READ | ATOMIC_O_TRUNC | BIG_WRITES | MAX_PAGES | POSIX_ACL | WRITEBACK_CACHE
                | HANDLE_KILLPRIV_V2 | INIT_EXT | (1L << 1) /* POSIX_LOCKS: not wanted */;
        in.putInt(0, 7).putInt(4, 45).putInt(8, 131072).putInt(12, (int) offered).putInt(16, 0);
        ByteBuffer out = send(INIT, 0, in.array());
        assertEquals(OUT_HEADER_SIZE + INIT_OUT_SIZE, out.getInt(0));
        assertEquals(0, out.getInt(4));
        int flags = out.getInt(OUT_HEADER_SIZE + INIT_OUT_FLAGS);
        assertEquals(ASYNC_READ | ATOMIC_O_TRUNC | BIG_WRITES | MAX_PAGES | POSIX_ACL | HANDLE_KILLPRIV_V2 | INIT_EXT,
                Integer.toUnsignedLong(flags), "no POSIX locks, no writeback cache unless asked");
        assertEquals(38, out.getInt(OUT_HEADER_SIZE + INIT_OUT_MINOR), "our minor, not the kernel's 45");
        assertEquals(1 << 20, out.getInt(OUT_HEADER_SIZE + INIT_OUT_MAX_WRITE));
        assertEquals(256, out.getShort(OUT_HEADER_SIZE + INIT_OUT_MAX_PAGES));
    }

    /**
     * FUSE_OVER_IO_URING is asked for only when a transport asks ({@code alsoAsk}: the io_uring
     * front end), and agreed only if the kernel offered it (it does while fuse.enable_uring is Y).
     */
    @Test
    void fuseOverIoUringIsAskedForOnlyByTheRingTransport() throws Exception {
        long offered = ASYNC_READ | INIT_EXT | UringAbi.FUSE_OVER_IO_URING;
        ByteBuffer in = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        in.putInt(0, 7).putInt(4, 45).putInt(12, (int) offered).putInt(16, (int) (offered >>> 32));
        ByteBuffer out = send(INIT, 0, in.array());
        assertEquals(0, out.getInt(OUT_HEADER_SIZE + INIT_OUT_FLAGS2) & (1 << 9), "not asked: /dev/fuse serves");
        assertEquals(0, kfs.agreedFlags() & UringAbi.FUSE_OVER_IO_URING);

        kfs.alsoAsk(UringAbi.FUSE_OVER_IO_URING);
        out = send(INIT, 0, in.array());
        assertEquals(1 << 9, out.getInt(OUT_HEADER_SIZE + INIT_OUT_FLAGS2) & (1 << 9), "flags2 bit 9 = bit 41");
        assertTrue((kfs.agreedFlags() & UringAbi.FUSE_OVER_IO_URING) != 0);

        long notOffered = ASYNC_READ | INIT_EXT;
        in.putInt(12, (int) notOffered).putInt(16, 0);
        send(INIT, 0, in.array());
        assertEquals(0, kfs.agreedFlags() & UringAbi.FUSE_OVER_IO_URING, "the kernel did not offer it (enable_uring N)");
    }

    @Test
    void anOldKernelIsRefused() throws Exception {
        ByteBuffer in = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        in.putInt(0, 7).putInt(4, 19);
        ByteBuffer out = send(INIT, 0, in.array());
        assertEquals(-71, out.getInt(4), "EPROTO");
    }

    @Test
    void forgetAndInterruptGetNoReplyAndUnknownOpcodesGetEnosys() throws Exception {
        assertEquals(0, send(FORGET, 1, args(8)).remaining());
        assertEquals(0, send(BATCH_FORGET, 0, args(8)).remaining());
        assertEquals(0, send(INTERRUPT, 0, args(8)).remaining());
        assertEquals(-38, send(4242, 1, args(0)).getInt(4));
        assertEquals(-38, send(FLUSH, 1, args(24)).getInt(4));
    }

    @Test
    void lookupOfAMissingNameIsANegativeEntryAndFsErrorsBecomeTheirErrno() throws Exception {
        ByteBuffer out = send(LOOKUP, ROOT_ID, name("absent"));
        assertEquals(0, out.getInt(4));
        assertEquals(0, out.getLong(OUT_HEADER_SIZE + ENTRY_NODEID), "node id 0: a negative entry");
        assertEquals(60, out.getLong(OUT_HEADER_SIZE + ENTRY_VALID));
        assertEquals(-2, send(GETATTR, 999, args(16)).getInt(4), "ENOENT for a free inode");
        assertEquals(-22, send(LOOKUP, ROOT_ID, new byte[] {'x', 'y'}).getInt(4), "EINVAL: name without NUL");
    }

    /**
     * A worker serving READ and WRITE allocates nothing on the Java heap (issue 4), front end
     * and fs-core together: requests are built once in the worker's buffer and handled again
     * and again, counting the bytes the thread allocates (fs-core's {@link Allocations}: the
     * fewest of five runs after two warm-ups).
     */
    @Test
    void readAndWriteRequestsAllocateNothing() throws Exception {
        long ino = fs.create(DaxFileSystem.ROOT, "data", 0644, 0, 0);
        MemorySegment block = arena.allocate(1 << 20);
        fs.write(ino, 0, block, 0, 1 << 20);
        for (int opcode : new int[] {READ, WRITE}) {
            int size = 4096;
            int len = IN_HEADER_SIZE + WRITE_IN_SIZE + (opcode == WRITE ? size : 0);
            in.fill((byte) 0);
            in.set(JAVA_INT_UNALIGNED, IN_LEN, len);
            in.set(JAVA_INT_UNALIGNED, IN_OPCODE, opcode);
            in.set(JAVA_LONG_UNALIGNED, IN_NODEID, ino);
            in.set(JAVA_INT_UNALIGNED, IN_HEADER_SIZE + IO_IN_SIZE, size);
            long least = Allocations.leastAllocatedBy(() -> {
                for (int i = 0; i < 256; i++) {
                    in.set(JAVA_LONG_UNALIGNED, IN_UNIQUE, unique++);
                    in.set(JAVA_LONG_UNALIGNED, IN_HEADER_SIZE + IO_IN_OFFSET, (long) (i * 37 % 256) * size);
                    request.reset(len);
                    kfs.handle(request, reply);
                }
            });
            assertEquals(0, least, "bytes allocated by 256 " + (opcode == READ ? "READ" : "WRITE") + " requests of 4 KiB");
        }
        ByteBuffer first = ByteBuffer.wrap(Files.readAllBytes(replies), 0, 16).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(OUT_HEADER_SIZE + 4096, first.getInt(0), "the requests were served: a 4 KiB READ reply");
        assertEquals(0, first.getInt(4));
    }

    @Test
    void anUnlinkedFileIsFreedAtOnceButItsNumberWaitsForTheKernelsForget() throws Exception {
        long ino = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        ByteBuffer out = send(LOOKUP, ROOT_ID, name("f"));
        assertEquals(ino, out.getLong(OUT_HEADER_SIZE + ENTRY_NODEID));
        long freeInodes = fs.statfs().freeInodes();
        assertEquals(0, send(UNLINK, ROOT_ID, name("f")).getInt(4));
        assertEquals(-2, send(GETATTR, ino, args(16)).getInt(4), "the file is gone");
        assertEquals(freeInodes + 1, fs.statfs().freeInodes(), "and counted free");
        for (int i = 0; i < 20; i++) {
            assertTrue(fs.create(DaxFileSystem.ROOT, "n" + i, 0644, 0, 0) != ino,
                    "the kernel may still send requests for " + ino + ": no new file gets it");
        }
        ByteBuffer forget = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1);
        send(FORGET, ino, forget.array());
        assertEquals(0, kfs.referencedInodes());
        assertEquals(0, fs.inodeNumbersHeld());
    }

    @Test
    void aFileReplacedByRenameStaysOpenableUntilTheKernelForgetsIt() throws Exception {
        long old = fs.create(DaxFileSystem.ROOT, "target", 0644, 0, 0);
        fs.create(DaxFileSystem.ROOT, "new", 0644, 0, 0);
        send(LOOKUP, ROOT_ID, name("target")); // a reader's path walk, just before the rename
        byte[] rename = ByteBuffer.allocate(8 + 4 + 7).order(ByteOrder.LITTLE_ENDIAN).putLong(0, ROOT_ID).array();
        System.arraycopy(name("new"), 0, rename, 8, 4);
        System.arraycopy(name("target"), 0, rename, 12, 7);
        assertEquals(0, send(RENAME, ROOT_ID, rename).getInt(4));
        ByteBuffer open = send(OPEN, old, args(8));
        assertEquals(0, open.getInt(4), "the reader opens the old file, as on a local file system");
        assertEquals(0, send(RELEASE, old, args(24)).getInt(4));
        ByteBuffer forget = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1);
        send(FORGET, old, forget.array());
        assertEquals(-2, send(GETATTR, old, args(16)).getInt(4), "freed at the kernel's last forget");
        assertEquals(0, fs.inodeNumbersHeld());
    }
}
