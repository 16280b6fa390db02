package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.mount.MountSession;
import io.daxfs.fuse.options.MountOptions;
import io.daxfs.fuse.options.PermissionPolicy;

import com.sun.nio.file.ExtendedOpenOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real mount served through FUSE over io_uring in this JVM ({@link UringSession}), so that the
 * ring threads can be watched: what they allocate while serving READ and WRITE, and that the
 * requests went through the rings. Needs root, /dev/fuse, libfuse 2 (for the mount) and a
 * kernel with FUSE over io_uring; the test switches {@code fuse.enable_uring} on if it is off
 * and back afterwards (set-up that says so, like the integration suite's uring run).
 */
class UringTransportTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @TempDir
    Path dir;

    private String parameterBefore;
    private OpenedDevice device;
    private DaxFileSystem fs;
    private MountSession session;
    private UringSession ring;
    private Path mnt;

    @BeforeEach
    void mountThroughTheRing() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounts: needs root");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse");
        assumeTrue(Files.exists(UringSupport.PARAMETER), "no FUSE over io_uring in this kernel");
        assumeTrue(Files.readString(UringSupport.PARAMETER).strip().equals("Y") || Files.isWritable(UringSupport.PARAMETER)
                        && !Files.getFileStore(UringSupport.PARAMETER).isReadOnly(),
                "fuse.enable_uring is off and cannot be switched on here (a container's read-only /sys)");
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libfuse.so.2"))
                || Files.exists(Path.of("/lib/x86_64-linux-gnu/libfuse.so.2"))
                || Files.exists(Path.of("/usr/lib/aarch64-linux-gnu/libfuse.so.2")), "no libfuse 2");
        parameterBefore = Files.readString(UringSupport.PARAMETER).strip();
        if (!parameterBefore.equals("Y")) {
            Files.writeString(UringSupport.PARAMETER, "Y"); // restored in unmount()
        }
        device = DeviceOpener.open(dir.resolve("img"), DeviceOptions.builder().createSize(64 << 20).build());
        DaxFileSystem.format(device.region(), FormatOptions.defaults());
        fs = DaxFileSystem.mount(device.region());
        mnt = Files.createDirectory(dir.resolve("mnt"));
        KernelFileSystem kfs = new KernelFileSystem(fs, KernelOptions.defaults(PermissionPolicy.DAEMON_ACL));
        ring = UringSession.mount(kfs, mnt, MountOptions.parse(List.of()).kernelMountOptions("uringtest"), 1);
        session = ring.session();
        assertTrue(session.awaitReady(Duration.ofSeconds(20)), "the mount answers");
        assertTrue((kfs.agreedFlags() & UringAbi.FUSE_OVER_IO_URING) != 0, "INIT agreed on FUSE over io_uring");
    }

    @AfterEach
    void unmount() throws Exception {
        try {
            if (session != null) {
                session.stop();
            }
            if (fs != null) {
                fs.close();
            }
            if (device != null) {
                device.close();
            }
        } finally {
            if (parameterBefore != null && !parameterBefore.equals("Y")) {
                Files.writeString(UringSupport.PARAMETER, parameterBefore);
            }
        }
    }

    /** The queue threads of the session: workers 0 .. queues-1. */
    private long[] queueThreads() {
        int queues = UringSupport.queues();
        String prefix = session.threadName("");
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(prefix))
                .filter(t -> {
                    String role = t.getName().substring(prefix.length());
                    return role.chars().allMatch(Character::isDigit) && !role.isEmpty() && Integer.parseInt(role) < queues;
                })
                .mapToLong(Thread::threadId).toArray();
    }

    private static long allocatedBy(long[] threads) {
        long sum = 0;
        for (long b : THREADS.getThreadAllocatedBytes(threads)) {
            sum += b;
        }
        return sum;
    }

    @Test
    void filesWrittenAndReadThroughTheRingAreIntact() throws Exception {
        byte[] data = new byte[3 << 20];
        new java.util.Random(5).nextBytes(data);
        Path f = mnt.resolve("f");
        Files.write(f, data);
        assertArrayEquals(data, Files.readAllBytes(f));
        Files.move(f, mnt.resolve("g"));
        Files.createDirectories(mnt.resolve("a/b"));
        Files.writeString(mnt.resolve("a/b/c"), "c");
        assertEquals(List.of("a", "g"), Files.list(mnt).map(p -> p.getFileName().toString()).sorted().toList());
        Files.delete(mnt.resolve("g"));
        assertTrue(Files.notExists(mnt.resolve("g")));
        session.stop();
        assertTrue(ring.served() > 10, "served through the rings: " + ring.served());
    }

    /**
     * A ring thread serving READ and WRITE allocates nothing on the Java heap, transport and
     * handlers together (the /dev/fuse path's test is
     * {@code KernelFileSystemTest.readAndWriteRequestsAllocateNothing}; both also run under C1,
     * the daemon's compiler). O_DIRECT makes every pread and pwrite of 4 KiB one READ or WRITE
     * request; the bytes the queue threads allocate are counted over 256 of each, the fewest of
     * five runs after the warm-up.
     */
    @Test
    void readAndWriteRequestsOnTheRingAllocateNothing() throws Exception {
        Path f = mnt.resolve("data");
        Files.write(f, new byte[1 << 20]);
        long[] threads = queueThreads();
        assertEquals(UringSupport.queues(), threads.length, "one thread per queue");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE,
                ExtendedOpenOption.DIRECT)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(2 * 4096).alignedSlice(4096).slice(0, 4096);
            Runnable ops = () -> {
                try {
                    for (int i = 0; i < 256; i++) {
                        long at = (long) (i * 37 % 256) * 4096;
                        buf.clear();
                        assertEquals(4096, ch.read(buf, at));
                        buf.flip();
                        assertEquals(4096, ch.write(buf, at));
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            for (int i = 0; i < 20; i++) {
                ops.run(); // warm-up: class loading, the first compilations
            }
            long least = Long.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long before = allocatedBy(threads);
                ops.run();
                least = Math.min(least, allocatedBy(threads) - before);
            }
            assertEquals(0, least, "bytes allocated by the ring threads serving 256 READs and 256 WRITEs of 4 KiB");
        }
        session.stop();
        assertTrue(ring.served() >= 25 * 512, "the READs and WRITEs went through the rings: " + ring.served());
    }
}
