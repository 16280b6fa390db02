package io.daxfs.fuse.kernel;

import io.daxfs.core.Allocations;
import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.devdax.PersistenceMode;
import io.daxfs.devdax.ScratchRegion;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * READ replies spliced from the image ({@link SplicedRead}) on a real image file, with a pipe
 * standing in for /dev/fuse: what arrives there must be exactly the reply a copying READ
 * sends - header, data, zeros for holes, a short end - and a reply the pipe cannot take
 * whole must leave nothing behind.
 */
class SplicedReadTest {
    private static final int KIB = 1024;
    private static final int MAX_WRITE = 1 << 20;

    @TempDir
    Path dir;
    private final Arena arena = Arena.ofConfined();
    private OpenedDevice device;
    private DaxFileSystem fs;
    /** The stand-in for /dev/fuse: replies are spliced into its write end, read back from its read end. */
    private int fuseRead = -1;
    private int fuseWrite = -1;
    private SplicedRead spliced;
    private Reply reply;
    private long unique = 100;

    @BeforeEach
    void setUp() throws Exception {
        device = DeviceOpener.open(dir.resolve("img"), DeviceOptions.builder().createSize(32 << 20).build());
        DaxFileSystem.format(device.region(), FormatOptions.defaults());
        fs = DaxFileSystem.mount(device.region());
        MemorySegment fds = arena.allocate(8, 4);
        assertEquals(0, LinuxCalls.checked(LinuxCalls.SYS_PIPE2, fds.address(), 0, 0, 0, 0, 0));
        fuseRead = fds.get(JAVA_INT, 0);
        fuseWrite = fds.get(JAVA_INT, 4);
        assertEquals(1 << 20, LinuxCalls.checked(LinuxCalls.SYS_FCNTL, fuseWrite, 1031, 1 << 20, 0, 0, 0));
        MemorySegment state = FuseChannel.newCallState(arena);
        MemorySegment out = arena.allocate(FuseAbi.OUT_HEADER_SIZE + MAX_WRITE, 4096);
        FuseChannel channel = new FuseChannel(fuseWrite);
        reply = new Reply(channel, out, state, arena.allocate(Reply.NOTICE_SIZE, 8));
        spliced = new SplicedRead(channel, 64 * KIB, MAX_WRITE, state, out, arena);
    }

    @AfterEach
    void tearDown() {
        spliced.close();
        LinuxCalls.close(fuseRead);
        LinuxCalls.close(fuseWrite);
        fs.close();
        device.close();
        arena.close();
    }

    /** 300 KiB and 100 bytes: a pattern in [0, 64 KiB), a hole to 192 KiB, a pattern to the end. */
    private byte[] fileWithAHole(long ino) {
        byte[] expected = new byte[300 * KIB + 100];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = i < 64 * KIB || i >= 192 * KIB ? (byte) (i * 31 + 7) : 0;
        }
        fs.write(ino, 0, MemorySegment.ofArray(expected), 0, 64 * KIB);
        fs.write(ino, 192 * KIB, MemorySegment.ofArray(expected), 192 * KIB, expected.length - 192 * KIB);
        return expected;
    }

    private int read(long ino, long offset, int length) {
        reply.start(++unique);
        return spliced.read(fs, ino, offset, length, reply);
    }

    /** Everything waiting in the stand-in for /dev/fuse. */
    private ByteBuffer arrived() {
        MemorySegment count = arena.allocate(4, 4);
        LinuxCalls.checked(LinuxCalls.SYS_IOCTL, fuseRead, SplicedRead.FIONREAD, count.address(), 0, 0, 0);
        int n = count.get(JAVA_INT, 0);
        MemorySegment buf = arena.allocate(Math.max(n, 1));
        if (n > 0) {
            assertEquals(n, LinuxCalls.checked(LinuxCalls.SYS_READ, fuseRead, buf.address(), n, 0, 0, 0));
        }
        return ByteBuffer.wrap(buf.asSlice(0, n).toArray(JAVA_BYTE)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void assertReply(ByteBuffer got, byte[] expected, int from, int length) {
        assertEquals(FuseAbi.OUT_HEADER_SIZE + length, got.remaining(), "exactly one reply arrived");
        assertEquals(FuseAbi.OUT_HEADER_SIZE + length, got.getInt(0), "fuse_out_header.len");
        assertEquals(0, got.getInt(4), "fuse_out_header.error");
        assertEquals(unique, got.getLong(8), "fuse_out_header.unique");
        byte[] body = new byte[length];
        got.get(FuseAbi.OUT_HEADER_SIZE, body);
        byte[] want = new byte[length];
        System.arraycopy(expected, from, want, 0, length);
        assertArrayEquals(want, body);
    }

    @Test
    void aLargeReadArrivesWholeWithItsHoleAsZerosAndEndsAtTheEndOfTheFile() {
        long ino = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        byte[] expected = fileWithAHole(ino);
        assertEquals(expected.length, read(ino, 0, 512 * KIB), "spliced, short at the end of the file");
        assertTrue(reply.sent());
        assertReply(arrived(), expected, 0, expected.length);

        assertEquals(128 * KIB, read(ino, 128 * KIB, 128 * KIB), "from inside the hole into the data");
        assertReply(arrived(), expected, 128 * KIB, 128 * KIB);

        assertEquals(0, read(ino, expected.length, 128 * KIB), "at the end: nothing spliced, the caller answers");
        assertFalse(reply.sent());
        assertEquals(0, arrived().remaining());
    }

    @Test
    void aFileOfMoreExtentsThanAReadMayReferenceIsRefusedAndLeavesNothingInThePipe() {
        long ino = fs.create(DaxFileSystem.ROOT, "fragmented", 0644, 0, 0);
        byte[] block = new byte[4096];
        for (int b = 0; b < 40; b += 2) { // 20 extents with holes between them
            java.util.Arrays.fill(block, (byte) (b + 1));
            fs.write(ino, b * 4096L, MemorySegment.ofArray(block), 0, block.length);
        }
        assertEquals(-1, read(ino, 0, 160 * KIB), "refused: the caller copies it");
        assertFalse(reply.sent());
        assertEquals(0, arrived().remaining(), "no part of the refused reply reached /dev/fuse");

        // The worker's pipe was emptied too: the next reply arrives alone and whole.
        long f = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        byte[] expected = fileWithAHole(f);
        assertEquals(256 * KIB, read(f, 0, 256 * KIB));
        assertReply(arrived(), expected, 0, 256 * KIB);
    }

    /** As every READ (KernelFileSystemTest): a spliced one allocates nothing on the Java heap either. */
    @Test
    void aSplicedReadAllocatesNothing() throws Exception {
        long ino = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        fileWithAHole(ino);
        MemorySegment sink = arena.allocate(1 << 20);
        long least = Allocations.leastAllocatedBy(() -> {
            for (int i = 0; i < 64; i++) {
                reply.start(++unique);
                if (spliced.read(fs, ino, (i % 3) * 64 * KIB, 128 * KIB, reply) != 128 * KIB) {
                    throw new AssertionError("not spliced");
                }
                LinuxCalls.call(LinuxCalls.SYS_READ, fuseRead, sink.address(), sink.byteSize(), 0, 0, 0);
            }
        });
        assertEquals(0, least, "bytes allocated by 64 spliced READs of 128 KiB");
    }

    @Test
    void readsUnderTheThresholdAreLeftToTheCopyingPath() {
        long ino = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
        fileWithAHole(ino);
        assertEquals(-1, read(ino, 0, 60 * KIB));
        assertFalse(reply.sent());
        assertEquals(0, arrived().remaining());
    }

    @Test
    void aRegionThatCannotSpliceTurnsSplicingOffWithoutAnsweringTheRead() throws Exception {
        try (Arena memory = Arena.ofConfined()) {
            ScratchRegion region = new ScratchRegion(memory.allocate(32 << 20, 4096), PersistenceMode.VOLATILE);
            DaxFileSystem.format(region, FormatOptions.defaults());
            try (DaxFileSystem scratch = DaxFileSystem.mount(region)) {
                long ino = scratch.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
                scratch.write(ino, 0, memory.allocate(256 * KIB), 0, 256 * KIB);
                reply.start(++unique);
                assertEquals(-1, spliced.read(scratch, ino, 0, 256 * KIB, reply));
                assertEquals(0, arrived().remaining(), "the header written into the pipe was drained");
                // Off for good: the image file's reads are not spliced by this worker either.
                long f = fs.create(DaxFileSystem.ROOT, "f", 0644, 0, 0);
                fileWithAHole(f);
                assertEquals(-1, read(f, 0, 256 * KIB));
            }
        }
    }
}
