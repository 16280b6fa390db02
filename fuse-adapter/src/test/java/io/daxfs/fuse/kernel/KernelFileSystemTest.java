package io.daxfs.fuse.kernel;

import io.daxfs.core.Allocations;
import io.daxfs.core.DaxFileSystem;
import io.daxfs.fuse.options.PermissionPolicy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static io.daxfs.fuse.kernel.FuseAbi.*;
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

    private KernelDriver k;

    @BeforeEach
    void setUp() {
        k = new KernelDriver(dir);
    }

    @AfterEach
    void tearDown() {
        k.close();
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
        ByteBuffer out = k.send(INIT, 0, in.array());
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
        ByteBuffer out = k.send(INIT, 0, in.array());
        assertEquals(0, out.getInt(OUT_HEADER_SIZE + INIT_OUT_FLAGS2) & (1 << 9), "not asked: /dev/fuse serves");
        assertEquals(0, k.kfs.agreedFlags() & UringAbi.FUSE_OVER_IO_URING);

        k.kfs.alsoAsk(UringAbi.FUSE_OVER_IO_URING);
        out = k.send(INIT, 0, in.array());
        assertEquals(1 << 9, out.getInt(OUT_HEADER_SIZE + INIT_OUT_FLAGS2) & (1 << 9), "flags2 bit 9 = bit 41");
        assertTrue((k.kfs.agreedFlags() & UringAbi.FUSE_OVER_IO_URING) != 0);

        long notOffered = ASYNC_READ | INIT_EXT;
        in.putInt(12, (int) notOffered).putInt(16, 0);
        k.send(INIT, 0, in.array());
        assertEquals(0, k.kfs.agreedFlags() & UringAbi.FUSE_OVER_IO_URING, "the kernel did not offer it (enable_uring N)");
    }

    @Test
    void anOldKernelIsRefused() throws Exception {
        ByteBuffer in = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        in.putInt(0, 7).putInt(4, 19);
        ByteBuffer out = k.send(INIT, 0, in.array());
        assertEquals(-71, out.getInt(4), "EPROTO");
    }

    @Test
    void forgetAndInterruptGetNoReplyAndUnknownOpcodesGetEnosys() throws Exception {
        assertEquals(0, k.send(FORGET, 1, args(8)).remaining());
        assertEquals(0, k.send(BATCH_FORGET, 0, args(8)).remaining());
        assertEquals(0, k.send(INTERRUPT, 0, args(8)).remaining());
        assertEquals(-38, k.send(4242, 1, args(0)).getInt(4));
        assertEquals(-38, k.send(FLUSH, 1, args(24)).getInt(4));
    }

    @Test
    void lookupOfAMissingNameIsANegativeEntryAndFsErrorsBecomeTheirErrno() throws Exception {
        ByteBuffer out = k.send(LOOKUP, ROOT_ID, name("absent"));
        assertEquals(0, out.getInt(4));
        assertEquals(0, out.getLong(OUT_HEADER_SIZE + ENTRY_NODEID), "node id 0: a negative entry");
        assertEquals(60, out.getLong(OUT_HEADER_SIZE + ENTRY_VALID));
        assertEquals(-2, k.send(GETATTR, 999, args(16)).getInt(4), "ENOENT for a free inode");
        assertEquals(-22, k.send(LOOKUP, ROOT_ID, new byte[] {'x', 'y'}).getInt(4), "EINVAL: name without NUL");
    }

    /**
     * A worker serving READ and WRITE allocates nothing on the Java heap (issue 4), front end
     * and fs-core together: requests are built once in the worker's buffer and handled again
     * and again, counting the bytes the thread allocates (fs-core's {@link Allocations}: the
     * fewest of five runs after two warm-ups).
     */
    @Test
    void readAndWriteRequestsAllocateNothing() throws Exception {
        long ino = k.fs.create(DaxFileSystem.ROOT, "data", 0644, 0, 0);
        try (Arena arena = Arena.ofConfined()) {
            k.fs.write(ino, 0, arena.allocate(1 << 20), 0, 1 << 20);
        }
        MemorySegment in = k.in;
        for (int opcode : new int[] {READ, WRITE}) {
            int size = 4096;
            int len = IN_HEADER_SIZE + WRITE_IN_SIZE + (opcode == WRITE ? size : 0);
            in.fill((byte) 0);
            in.set(JAVA_INT_UNALIGNED, IN_LEN, len);
            in.set(JAVA_INT_UNALIGNED, IN_OPCODE, opcode);
            in.set(JAVA_LONG_UNALIGNED, IN_NODEID, ino);
            in.set(JAVA_INT_UNALIGNED, IN_HEADER_SIZE + IO_IN_SIZE, size);
            long served = k.kfs.stats().count(opcode);
            long bytes = opcode == READ ? k.kfs.stats().bytesRead() : k.kfs.stats().bytesWritten();
            long least = Allocations.leastAllocatedBy(() -> {
                for (int i = 0; i < 256; i++) {
                    in.set(JAVA_LONG_UNALIGNED, IN_UNIQUE, k.nextUnique());
                    in.set(JAVA_LONG_UNALIGNED, IN_HEADER_SIZE + IO_IN_OFFSET, (long) (i * 37 % 256) * size);
                    k.handle(len);
                }
            });
            assertEquals(0, least, "bytes allocated by 256 " + (opcode == READ ? "READ" : "WRITE") + " requests of 4 KiB");
            // ... with daxfs stat's recording on the path: every request counted, one in 16 timed.
            long counted = k.kfs.stats().count(opcode) - served;
            assertTrue(counted >= 256 && counted % 256 == 0, counted + " requests recorded");
            assertEquals(counted * size, (opcode == READ ? k.kfs.stats().bytesRead() : k.kfs.stats().bytesWritten()) - bytes);
            assertTrue(k.kfs.stats().latency(opcode).count() >= counted / 32, "about one in 16 timed");
        }
        ByteBuffer first = k.writtenSince(0);
        assertEquals(OUT_HEADER_SIZE + 4096, first.getInt(0), "the requests were served: a 4 KiB READ reply");
        assertEquals(0, first.getInt(4));
    }

    @Test
    void anUnlinkedFileIsFreedAtOnceButItsNumberWaitsForTheKernelsForget() throws Exception {
        long ino = k.fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        ByteBuffer out = k.send(LOOKUP, ROOT_ID, name("f"));
        assertEquals(ino, out.getLong(OUT_HEADER_SIZE + ENTRY_NODEID));
        long freeInodes = k.fs.statfs().freeInodes();
        assertEquals(0, k.send(UNLINK, ROOT_ID, name("f")).getInt(4));
        assertEquals(-2, k.send(GETATTR, ino, args(16)).getInt(4), "the file is gone");
        assertEquals(freeInodes + 1, k.fs.statfs().freeInodes(), "and counted free");
        for (int i = 0; i < 20; i++) {
            assertTrue(k.fs.create(DaxFileSystem.ROOT, "n" + i, 0644, 0, 0) != ino,
                    "the kernel may still send requests for " + ino + ": no new file gets it");
        }
        ByteBuffer forget = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1);
        k.send(FORGET, ino, forget.array());
        assertEquals(0, k.kfs.referencedInodes());
        assertEquals(0, k.fs.inodeNumbersHeld());
    }

    @Test
    void aFileReplacedByRenameStaysOpenableUntilTheKernelForgetsIt() throws Exception {
        long old = k.fs.create(DaxFileSystem.ROOT, "target", 0644, 0, 0);
        k.fs.create(DaxFileSystem.ROOT, "new", 0644, 0, 0);
        k.send(LOOKUP, ROOT_ID, name("target")); // a reader's path walk, just before the rename
        byte[] rename = ByteBuffer.allocate(8 + 4 + 7).order(ByteOrder.LITTLE_ENDIAN).putLong(0, ROOT_ID).array();
        System.arraycopy(name("new"), 0, rename, 8, 4);
        System.arraycopy(name("target"), 0, rename, 12, 7);
        assertEquals(0, k.send(RENAME, ROOT_ID, rename).getInt(4));
        ByteBuffer open = k.send(OPEN, old, args(8));
        assertEquals(0, open.getInt(4), "the reader opens the old file, as on a local file system");
        assertEquals(0, k.send(RELEASE, old, args(24)).getInt(4));
        ByteBuffer forget = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1);
        k.send(FORGET, old, forget.array());
        assertEquals(-2, k.send(GETATTR, old, args(16)).getInt(4), "freed at the kernel's last forget");
        assertEquals(0, k.fs.inodeNumbersHeld());
    }
    /**
     * STATX carries what GETATTR does plus the birth time, which never changes (xfstests asks
     * for it: "inode creation time not supported" otherwise).
     */
    @Test
    void statxReportsTheBirthTime() throws Exception {
        long before = System.currentTimeMillis() / 1000;
        long ino = k.fs.mknod(DaxFileSystem.ROOT, "dev", 0020640, (8 << 8) | 3 | (0x123 << 20), 7, 8);
        Thread.sleep(5);
        k.fs.chmod(ino, 0600);
        ByteBuffer out = k.send(STATX, ino, args(STATX_IN_SIZE));
        assertEquals(0, out.getInt(4));
        assertEquals(OUT_HEADER_SIZE + STATX_OUT_SIZE, out.getInt(0));
        int s = OUT_HEADER_SIZE + STATX_OUT_STAT;
        assertEquals(STATX_BASIC_STATS | STATX_BTIME, out.getInt(s + SX_MASK));
        assertEquals(60, out.getLong(OUT_HEADER_SIZE + STATX_OUT_VALID));
        assertEquals(0020600, out.getShort(s + SX_MODE) & 0xffff);
        assertEquals(ino, out.getLong(s + SX_INO));
        assertEquals(1, out.getInt(s + SX_NLINK));
        assertEquals(7, out.getInt(s + SX_UID));
        assertEquals(8, out.getInt(s + SX_GID));
        assertEquals(4096, out.getInt(s + SX_BLKSIZE));
        assertEquals(8, out.getInt(s + SX_RDEV_MAJOR));
        assertEquals(0x12303, out.getInt(s + SX_RDEV_MINOR), "new_encode_dev: minor bits 0-7 and 20-31");
        var a = k.fs.getattr(ino);
        var birth = k.fs.birthTime(ino);
        assertTrue(birth.seconds() >= before && birth.seconds() <= a.ctimeSec());
        assertEquals(birth.seconds(), out.getLong(s + SX_BTIME));
        assertEquals(birth.nanos(), out.getInt(s + SX_BTIME + 8));
        assertTrue(birth.seconds() < a.ctimeSec() || birth.nanos() < a.ctimeNsec(), "chmod moved ctime, not btime");
        assertEquals(a.ctimeSec(), out.getLong(s + SX_CTIME));
        assertEquals(a.ctimeNsec(), out.getInt(s + SX_CTIME + 8));
        assertEquals(a.mtimeSec(), out.getLong(s + SX_MTIME));
        assertEquals(a.atimeSec(), out.getLong(s + SX_ATIME));
        assertEquals(-2, k.send(STATX, 999, args(STATX_IN_SIZE)).getInt(4), "ENOENT for a free inode");
    }
    /**
     * FUSE_EXPORT_SUPPORT: a file handle outlives the kernel's inode cache. The kernel finds
     * the inode again with LOOKUP(nodeid, ".") and compares the generation the handle holds; it
     * reconnects a directory with LOOKUP(dir, ".."). A freed or renumbered inode is stale.
     */
    @Test
    void dotAndDotDotAreLookedUpByNodeIdForFileHandles() throws Exception {
        ByteBuffer init = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        init.putInt(0, 7).putInt(4, 45).putInt(12, (int) (EXPORT_SUPPORT | INIT_EXT));
        assertEquals(EXPORT_SUPPORT | INIT_EXT,
                Integer.toUnsignedLong(k.send(INIT, 0, init.array()).getInt(OUT_HEADER_SIZE + INIT_OUT_FLAGS)));
        long dir = k.fs.mkdir(DaxFileSystem.ROOT, "d", 0755, 0, 0);
        long sub = k.fs.mkdir(dir, "sub", 0755, 0, 0);
        long file = k.fs.create(sub, "f", 0644, 0, 0);
        int generation = k.fs.getattr(file).generation();

        ByteBuffer self = k.send(LOOKUP, file, name("."));
        assertEquals(0, self.getInt(4));
        assertEquals(file, self.getLong(OUT_HEADER_SIZE + ENTRY_NODEID));
        assertEquals(generation, self.getLong(OUT_HEADER_SIZE + ENTRY_GENERATION));
        assertEquals(0100644, self.getInt(OUT_HEADER_SIZE + ENTRY_ATTR + ATTR_MODE));
        ByteBuffer parent = k.send(LOOKUP, sub, name(".."));
        assertEquals(dir, parent.getLong(OUT_HEADER_SIZE + ENTRY_NODEID));
        ByteBuffer root = k.send(LOOKUP, dir, name(".."));
        assertEquals(ROOT_ID, root.getLong(OUT_HEADER_SIZE + ENTRY_NODEID));
        assertEquals(0, root.getLong(OUT_HEADER_SIZE + ENTRY_GENERATION), "the kernel's root has generation 0");
        assertEquals(ROOT_ID, k.send(LOOKUP, ROOT_ID, name("..")).getLong(OUT_HEADER_SIZE + ENTRY_NODEID));
        assertEquals(-20, k.send(LOOKUP, file, name("..")).getInt(4), "ENOTDIR: a file has no \"..\"");
        assertEquals(3, k.kfs.referencedInodes(), "each entry is a lookup the kernel holds: file, d and the root");

        k.fs.unlink(sub, "f");
        assertEquals(-2, k.send(LOOKUP, file, name(".")).getInt(4), "ENOENT (the kernel: ESTALE) once freed");
        assertEquals(-2, k.send(LOOKUP, 999, name(".")).getInt(4));
        assertEquals(-2, k.send(LOOKUP, 0, name(".")).getInt(4));
        long reused = k.fs.create(sub, "g", 0644, 0, 0);
        if (reused == file) {
            assertTrue(k.fs.getattr(reused).generation() != generation, "a reused number has a new generation");
        }
    }
    /**
     * A SETATTR that changes nothing is the kernel's file_remove_privs (fallocate, punch hole,
     * zero range, copy_file_range, write by a caller without CAP_FSETID; xfstests generic/683,
     * 684, 685) or a chown(-1, -1): set-user-ID goes, set-group-ID with group-execute, and
     * without it when the caller is outside the file's group (setattr_should_drop_sgid).
     */
    @Test
    void aSetattrThatChangesNothingDropsPrivilegesAsFileRemovePrivsDoes() throws Exception {
        int noSuchPid = Integer.MAX_VALUE; // no supplementary groups
        long a = k.fs.create(DaxFileSystem.ROOT, "a", 06666, 0, 0);
        long b = k.fs.create(DaxFileSystem.ROOT, "b", 06676, 0, 0);
        long c = k.fs.create(DaxFileSystem.ROOT, "c", 06666, 0, 1001);
        for (long ino : new long[] {a, b, c}) {
            ByteBuffer out = k.sendAs(SETATTR, ino, args(88), 1001, 1001, noSuchPid);
            assertEquals(0, out.getInt(4));
            assertEquals(k.fs.getattr(ino).mode(), out.getInt(OUT_HEADER_SIZE + ATTR_OUT_ATTR + ATTR_MODE),
                    "the reply carries the new mode");
        }
        assertEquals(0100666, k.fs.getattr(a).mode(), "outside the group: both bits go");
        assertEquals(0100676, k.fs.getattr(b).mode(), "group-execute: both bits go");
        assertEquals(0102666, k.fs.getattr(c).mode(), "a member of the group keeps set-group-ID without group-execute");
        long r = k.fs.create(DaxFileSystem.ROOT, "r", 06666, 5, 5);
        k.sendAs(SETATTR, r, args(88), 0, 0, noSuchPid);
        assertEquals(0102666, k.fs.getattr(r).mode(), "root (chown -1 -1): set-user-ID goes, set-group-ID stays");
        ByteBuffer chmod = ByteBuffer.allocate(88).order(ByteOrder.LITTLE_ENDIAN);
        chmod.putInt(SETATTR_IN_VALID, FATTR_MODE).putInt(SETATTR_IN_MODE, 06644);
        k.sendAs(SETATTR, r, chmod.array(), 0, 0, noSuchPid);
        assertEquals(0106644, k.fs.getattr(r).mode(), "a chmod is a change, not a kill");
    }
}
