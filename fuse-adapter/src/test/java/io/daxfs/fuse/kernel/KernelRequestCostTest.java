package io.daxfs.fuse.kernel;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.base.FormatOptions;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.options.PermissionPolicy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

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
import java.util.Arrays;

import static io.daxfs.fuse.kernel.FuseAbi.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A measurement, not a test (it asserts only that the requests succeed, never a speed):
 * the daemon's own time per request of the small-file test through the kernel front end's
 * dispatcher, as {@link KernelFileSystemTest} drives it - requests built in memory as the
 * kernel writes them, replies written with write(2) through the real {@link FuseChannel} to
 * /dev/null - so it is fs-core's work (benchmarks' RequestCost) plus the front end's
 * decoding, encoding and reply system call, without the round trip. Runs only when asked:
 * {@code mvn -o -pl fuse-adapter test -Dtest=KernelRequestCostTest -Ddaxfs.requestCost=true
 * -DargLine="-XX:TieredStopAtLevel=1"}; prints microseconds per request (median of round means).
 */
@EnabledIfSystemProperty(named = "daxfs.requestCost", matches = "true")
class KernelRequestCostTest {
    private static final int BATCH = 50;
    private static final int ROUNDS = 1_000;
    private MemorySegment in;
    private Request request;
    private Reply reply;
    private KernelFileSystem kfs;
    private long unique = 1;

    @Test
    void timeEachRequestOfTheSmallFileTest() throws Throwable {
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "daxfs-cost-");
        try (OpenedDevice device = DeviceOpener.open(dir.resolve("img"),
                DeviceOptions.builder().createSize(256L << 20).build()); Arena arena = Arena.ofConfined()) {
            DaxFileSystem.format(device.region(), FormatOptions.defaults());
            DaxFileSystem fs = DaxFileSystem.mount(device.region());
            kfs = new KernelFileSystem(fs, KernelOptions.defaults(PermissionPolicy.DAEMON_ACL));
            MethodHandle open = Linker.nativeLinker().downcallHandle(
                    Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2));
            int fd = (int) open.invokeExact(arena.allocateFrom("/dev/null"), 02);
            in = arena.allocate(1 << 16);
            request = new Request(in);
            MemorySegment out = arena.allocate(1 << 16);
            reply = new Reply(new FuseChannel(fd), out, FuseChannel.newCallState(arena), arena.allocate(Reply.NOTICE_SIZE));
            ByteBuffer init = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            long offered = ASYNC_READ | BIG_WRITES | MAX_PAGES | POSIX_ACL | HANDLE_KILLPRIV_V2 | INIT_EXT;
            init.putInt(0, 7).putInt(4, 45).putInt(8, 131072).putInt(12, (int) offered);
            send(INIT, 0, init.array());
            fs.mkdir(DaxFileSystem.ROOT, "d", 040755, 0, 0);
            long d = fs.lookup(DaxFileSystem.ROOT, "d");
            fs.create(d, "anchor", 0644, 0, 0);
            for (int i = 0; i < 5_000; i++) {
                fs.create(d, String.format("o%06d", i), 0644, 0, 0);
            }
            byte[][] names = new byte[BATCH][];
            byte[][] creates = new byte[BATCH][];
            for (int i = 0; i < BATCH; i++) {
                names[i] = name(String.format("f%06d", i));
                ByteBuffer c = ByteBuffer.allocate(CREATE_IN_SIZE + names[i].length).order(ByteOrder.LITTLE_ENDIAN);
                c.putInt(0, 0101 | 0200).putInt(4, 0100644).putInt(8, 022); // O_WRONLY | O_CREAT | O_EXCL
                c.put(CREATE_IN_SIZE, names[i]);
                creates[i] = c.array();
            }
            byte[] getattr = new byte[16];
            byte[] xattr = new byte[8 + 21];
            ByteBuffer.wrap(xattr).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0);
            System.arraycopy(name("security.capability"), 0, xattr, 8, 20);
            long[] inos = new long[BATCH];
            long[] fhs = new long[BATCH];
            String[] kinds = {"LOOKUP (negative)", "CREATE", "GETXATTR", "WRITE 1 KiB", "RELEASE", "GETATTR", "UNLINK"};
            double[][] perRound = new double[kinds.length][ROUNDS];
            for (int r = 0; r < ROUNDS; r++) {
                long[] t = new long[kinds.length + 1];
                t[0] = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    send(LOOKUP, d, names[i]);
                }
                t[1] = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    send(CREATE, d, creates[i]);
                    ByteBuffer o = out.asSlice(0, OUT_HEADER_SIZE + ENTRY_OUT_SIZE + 16).asByteBuffer()
                            .order(ByteOrder.LITTLE_ENDIAN);
                    assertEquals(0, o.getInt(4), "CREATE failed");
                    inos[i] = o.getLong(OUT_HEADER_SIZE);
                    fhs[i] = o.getLong(OUT_HEADER_SIZE + ENTRY_OUT_SIZE);
                }
                t[2] = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    send(GETXATTR, inos[i], xattr);
                }
                t[3] = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    byte[] w = new byte[WRITE_IN_SIZE + 1024];
                    ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putLong(0, fhs[i]).putInt(16, 1024);
                    send(WRITE, inos[i], w);
                }
                t[4] = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    byte[] rel = new byte[24];
                    ByteBuffer.wrap(rel).order(ByteOrder.LITTLE_ENDIAN).putLong(0, fhs[i]);
                    send(RELEASE, inos[i], rel);
                }
                t[5] = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    send(GETATTR, inos[i], getattr);
                }
                t[6] = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    send(UNLINK, d, names[i]);
                    assertEquals(0, out.get(JAVA_INT_UNALIGNED, 4), "UNLINK failed");
                }
                t[7] = System.nanoTime();
                byte[] forget = new byte[8];
                ByteBuffer.wrap(forget).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1);
                for (int i = 0; i < BATCH; i++) {
                    send(FORGET, inos[i], forget); // the kernel's, in the background: frees the number
                }
                for (int k = 0; k < kinds.length; k++) {
                    perRound[k][r] = (t[k + 1] - t[k]) / 1000.0 / BATCH;
                }
            }
            StringBuilder line = new StringBuilder("kernel front end, us per request (median of round means):");
            for (int k = 0; k < kinds.length; k++) {
                double[] m = Arrays.copyOfRange(perRound[k], ROUNDS / 2, ROUNDS);
                Arrays.sort(m);
                line.append(String.format(" %s %.2f;", kinds[k], m[m.length / 2]));
            }
            System.out.println(line);
            fs.close();
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    private void send(int opcode, long nodeid, byte[] args) {
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
    }

    private static byte[] name(String n) {
        byte[] b = n.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }
}
