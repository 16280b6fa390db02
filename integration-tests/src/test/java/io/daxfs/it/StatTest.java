package io.daxfs.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code daxfs stat} on a real mount (docs/stats.md): its figures move as a known workload says
 * (N write(2) calls give N WRITE requests and their bytes; a truncate under a held lease shows
 * the freed bytes busy with the reason "lease" until the holder goes), --watch, and the exit
 * statuses of wrong arguments and of a path that is not a daxfs mount. Runs with the kernel
 * front end and, in the io_uring run of the suite, with that one (the same request handlers,
 * leases included).
 */
class StatTest {
    private static final int MIB = 1 << 20;
    private DaxfsMount m;

    @BeforeEach
    void setUp() {
        assumeTrue(DaxfsMount.kernelFrontend(), "the libfuse front end serves no statistics (LeaseLibfuseTest: exit 1)");
        m = DaxfsMount.mounted("128M");
    }

    @AfterEach
    void tearDown() {
        if (m != null) {
            m.close();
        }
    }

    /** Figures of {@code daxfs stat --json}: WRITE count, bytes written, lease busy bytes, lease-held blocks, open files. */
    private long[] figures() {
        String json = Daxfs.daxfs("stat", "--json", m.mnt.toString()).expectSuccess().out();
        String out = Daxfs.python("""
                import json, sys
                d = json.loads(sys.argv[1])
                w = [r['count'] for r in d['requests'] if r['name'] == 'WRITE']
                busy = {b['reason']: b['bytes'] for b in d['busy']}
                print(w[0] if w else 0, d['bytes_written'], busy['lease'], d['space']['lease_held_blocks'], d['open_files'])
                """, json);
        return java.util.Arrays.stream(out.strip().split(" ")).mapToLong(Long::parseLong).toArray();
    }

    @Test
    void nWritesGiveNWriteRequests() throws IOException {
        Path f = m.path("f");
        long[] before = figures();
        int n = 100;
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer block = ByteBuffer.wrap(Daxfs.random(1, 4096));
            for (int i = 0; i < n; i++) {
                block.rewind();
                assertEquals(4096, c.write(block, i * 4096L)); // one pwrite(2): one WRITE request
            }
            long[] open = figures();
            assertEquals(1, open[4], "the file is open");
        }
        long[] after = figures();
        assertEquals(n, after[0] - before[0], "WRITE requests");
        assertEquals(n * 4096L, after[1] - before[1], "bytes written");
        assertEquals(0, after[4], "closed again");

        String text = Daxfs.daxfs("stat", m.mnt.toString()).expectSuccess().out();
        assertTrue(text.startsWith("daxfs at " + m.mnt + ", up "), text);
        assertTrue(text.matches("(?s).*\\n  WRITE +" + after[0] + " +0 .*"), text);
        assertTrue(text.contains("Busy space by reason") && text.contains("  durability ") && text.contains("journal commit"),
                text);
        System.out.println("daxfs stat after " + n + " writes:\n" + text);
    }

    @Test
    void aTruncateUnderAHeldLeaseShowsBusyBytesWithTheReasonLease() throws IOException {
        Path f = m.path("f");
        Files.write(f, Daxfs.random(2, 4 * MIB));
        assertEquals(0, figures()[2]);
        try (LeaseProcess holder = LeaseProcess.daxfsHold(f)) {
            holder.awaitLine("holding");
            shOk("truncate -s 0 " + q(f)); // frees the 4 MiB: the lease keeps them busy
            holder.awaitLine("broken");
            long[] held = figures();
            assertEquals(4 * MIB, held[2], "busy bytes with the reason lease");
            assertEquals(4 * MIB / 4096, held[3], "lease-held blocks");
            String text = Daxfs.daxfs("stat", m.mnt.toString()).expectSuccess().out();
            assertTrue(text.matches("(?s).*\\n  lease +1 +4 MiB +1\\n.*"), text);
            assertTrue(text.contains("leases: 1"), text);
            holder.kill9();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (figures()[2] != 0 && System.nanoTime() < deadline) {
                sleep(50); // the RELEASE of the killed holder's file
            }
            assertEquals(0, figures()[2], "the holder is gone: nothing busy");
        }
    }

    @Test
    void watchPrintsALinePerInterval() {
        Daxfs.Result r = Daxfs.daxfs("stat", "--watch", "1", "--count", "2", m.mnt.toString()).expectSuccess();
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.out());
        assertTrue(lines.get(0).contains("req/s") && lines.get(0).contains("commit p99"), r.out());
        Daxfs.Result json = Daxfs.daxfs("stat", "--watch", "1", "--count", "2", "--json", m.path(".").toString())
                .expectSuccess();
        assertEquals(2, json.out().lines().count(), "JSON lines: " + json.out());
    }

    @Test
    void wrongArgumentsExit2AndAPathThatIsNotADaxfsMountExits1() throws IOException {
        // Each wrong argument in-process: fuse-adapter CommandLineTest. Here the packaged command's exit status.
        Daxfs.Result usage = Daxfs.daxfs("stat", "--watch", "0", m.mnt.toString());
        assertEquals(2, usage.exit(), usage.toString());
        assertEquals(1, usage.err().strip().lines().count(), "one line: " + usage);
        assertTrue(usage.err().contains("daxfs stat --help"), usage.toString());
        Path elsewhere = Files.createTempDirectory("not-daxfs");
        try {
            Daxfs.Result r = Daxfs.daxfs("stat", elsewhere.toString());
            assertEquals(1, r.exit(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r);
            assertTrue(r.err().startsWith("daxfs stat: " + elsewhere + ": not a daxfs mount"), r.toString());
            assertEquals("", r.out());
        } finally {
            Files.delete(elsewhere);
        }
        Daxfs.Result missing = Daxfs.daxfs("stat", m.path("no-such").toString());
        assertEquals(1, missing.exit(), missing.toString());
        assertEquals(1, missing.err().strip().lines().count(), missing.toString());
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
