package io.daxfs.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.random;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Leases through a real mount, several processes (docs/leases.md): holders are separate
 * processes (the Python client of lease-client/python, and {@code daxfs lease --hold}, the Java
 * client), writers and readers are others. Each test has its own 64 MiB file system, mounted
 * allow_other, checked by fsck at the end. Runs in the kernel front end's run and in the io_uring
 * front end's (there the requests, the lease ioctls among them, come through the rings and the
 * notifications go out on /dev/fuse).
 */
@MountedDaxfs(size = "64M", options = "allow_other", rootMode = "rwxrwxrwx", scope = MountedDaxfs.Scope.TEST, fsck = true)
class LeaseTest {
    private static final int MIB = 1 << 20;
    private DaxfsMount m;

    @BeforeAll
    static void kernelOrUringFrontEnd() {
        assumeTrue(DaxfsMount.kernelFrontend(), "leases are served by the kernel and io_uring front ends "
                + "(compatibility.md; LeaseLibfuseTest checks the libfuse front end's refusal)");
    }

    private Path file(String name, byte[] data) throws IOException {
        return Files.write(m.path(name), data);
    }

    private long available() throws IOException {
        return Files.getFileStore(m.mnt).getUsableSpace();
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Test
    void aLeaseReaderSeesWritesMadeThroughTheMountWhenWriteReturns() throws IOException {
        Path f = file("f", random(1, 4 * MIB));
        try (LeaseProcess a = LeaseProcess.python(f, "read")) {
            assertTrue(a.line().startsWith("leased " + 4 * MIB), a.stderr());
            byte[] mine = random(2, 8192);
            try (FileChannel c = FileChannel.open(f, StandardOpenOption.WRITE)) {
                c.write(ByteBuffer.wrap(mine), 12345);
            }
            assertEquals(hex(mine), a.ask("read 12345 8192"), "the holder's mapping shows the write at once");
            Files.write(f, random(3, 4096), StandardOpenOption.WRITE); // write(2) at offset 0
            assertEquals(hex(random(3, 4096)), a.ask("read 0 4096"));
            assertEquals("False", a.ask("broken"), "writes into allocated blocks break nothing");
            assertEquals("closed", a.ask("close"));
        }
    }

    @Test
    void aWriteLeaseHoldersStoresAreReadBackThroughReadAndMmapOfAnotherProcessAfterItsRelease() throws IOException {
        Path f = file("f", random(4, 2 * MIB));
        try (LeaseProcess reader = LeaseProcess.mountReader(f); LeaseProcess holder = LeaseProcess.python(f, "write")) {
            assertEquals("open", reader.line());
            assertEquals(hex(java.util.Arrays.copyOfRange(random(4, 2 * MIB), 4096, 4096 + 16)),
                    reader.ask("mmap 4096 16"), "the reader's pages are cached now");
            reader.ask("pread 4096 16");
            assertTrue(holder.line().startsWith("leased"), holder.stderr());
            byte[] stored = random(5, 16);
            assertEquals("ok", holder.ask("store 4096 " + hex(stored)));
            assertEquals("closed", holder.ask("close"));
            assertEquals(hex(stored), reader.ask("pread 4096 16"), "read(2) of another process after the release");
            assertEquals(hex(stored), reader.ask("mmap 4096 16"), "its shared mmap, mapped before, after the release");
            assertEquals(hex(stored), hex(java.util.Arrays.copyOfRange(Files.readAllBytes(f), 4096, 4096 + 16)));
        }
        // The flush command does the same without releasing.
        try (LeaseProcess reader = LeaseProcess.mountReader(f); LeaseProcess holder = LeaseProcess.python(f, "write")) {
            assertEquals("open", reader.line());
            reader.ask("mmap 0 16");
            holder.line();
            byte[] stored = random(6, 16);
            holder.ask("store 0 " + hex(stored));
            assertEquals("ok", holder.ask("flush"));
            assertEquals(hex(stored), reader.ask("mmap 0 16"), "visible after the holder's flush");
            assertEquals(hex(stored), reader.ask("pread 0 16"));
            holder.ask("close");
        }
    }

    @Test
    void aReaderOfAnotherUserWhoMayNotOpenTheImageIsRefused() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is not installed");
        Path f = file("f", random(7, 64 * 1024));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(m.image, PosixFilePermissions.fromString("rw-------"));
        Path client = LeaseProcess.clientForAnyUser(m.mnt.getParent()); // nobody may not enter the checkout
        String script = """
                import errno, sys
                sys.path.insert(0, sys.argv[1])
                import daxfs_lease as dl
                f = open(sys.argv[2], 'rb')
                print(len(f.read()))
                for what, call in (('lease', lambda: dl.Lease(sys.argv[2]).close()),
                                   ('device', lambda: dl.device(f.fileno())),
                                   ('list', lambda: dl.list_leases(sys.argv[3]))):
                    try:
                        call(); print(what, 'granted')
                    except OSError as e:
                        print(what, errno.errorcode[e.errno])
                """;
        List<String> cmd = LeaseProcess.pythonAs(65534, script, client, f, m.mnt);
        Daxfs.Result r = Daxfs.exec(cmd).expectSuccess();
        assertEquals(List.of("65536", "lease EACCES", "device EACCES", "list EACCES"), r.out().strip().lines().toList(),
                "nobody reads the file through the mount, but may not open the image: no lease, no device, no list");
        // The control: the image's mode is what decides.
        Files.setPosixFilePermissions(m.image, PosixFilePermissions.fromString("rw-r--r--"));
        r = Daxfs.exec(cmd).expectSuccess();
        assertEquals(List.of("65536", "lease granted", "device granted", "list granted"), r.out().strip().lines().toList());
        Files.setPosixFilePermissions(m.image, PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void aHolderKilledWithKill9ReleasesItsLeasesAndTheSpaceReturns() throws IOException {
        Path f = file("f", random(8, 16 * MIB));
        Path g = file("g", random(9, 8 * MIB));
        long before = available();
        try (LeaseProcess holder = LeaseProcess.daxfsHold(f); LeaseProcess second = LeaseProcess.daxfsHold(g)) {
            holder.awaitLine("holding");
            second.awaitLine("holding");
            shOk("truncate -s 0 " + q(f)); // frees f's blocks: the lease keeps them
            Files.delete(g);               // g stays while its holder has it open
            holder.awaitLine("broken");
            long held = available();
            assertTrue(held < before + MIB, "statfs does not count the 16 MiB the lease holds free: " + before + " -> " + held);
            String stat = Daxfs.daxfs("stat", m.mnt.toString()).expectSuccess().out();
            assertTrue(stat.contains("leases: 2"), stat);
            assertTrue(stat.contains("broken") && stat.contains("16 MiB") && stat.contains(f.toString()), stat);
            System.out.println("daxfs stat while two leases are held:\n" + stat);

            holder.kill9();
            second.kill9();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (available() < before + 23L * MIB && System.nanoTime() < deadline) {
                sleep(50); // RELEASE reaches the daemon when the kernel closes the killed process's files
            }
            assertTrue(available() >= before + 23L * MIB, "f's 16 and g's 8 MiB came back: " + before + " -> " + available());
            String after = Daxfs.daxfs("stat", m.mnt.toString()).expectSuccess().out();
            assertTrue(after.contains("\nleases: 0"), after);
        }
        assertFalse(Files.exists(g));
        m.umount();
        m.fsckClean();
    }

    /**
     * A holder already asleep in poll(2) when its lease breaks is woken by the daemon's
     * FUSE_NOTIFY_POLL (a poll that comes after the break is answered POLLPRI at once, without
     * any notification): the truncate waits until the daemon has served the holder's POLL.
     */
    @Test
    void aHolderSleepingInPollIsWokenWhenItsLeaseBreaks() throws IOException {
        Path f = file("f", random(14, 4 * MIB));
        try (LeaseProcess a = LeaseProcess.python(f, "read")) {
            assertTrue(a.line().startsWith("leased " + 4 * MIB), a.stderr());
            long polls = pollsServed();
            a.send("wait 30");
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (pollsServed() == polls && System.nanoTime() < deadline) {
                sleep(50);
            }
            assertTrue(pollsServed() > polls, "the holder's poll(2) reached the daemon");
            long t0 = System.nanoTime();
            shOk("truncate -s 0 " + q(f));
            String woken = a.line();
            long wokenMillis = (System.nanoTime() - t0) / 1_000_000;
            // Unwoken, poll(2) asks once more at its timeout and sees POLLPRI then: "True" late.
            assertTrue(wokenMillis < 20_000, "not woken by the break (FUSE_NOTIFY_POLL): poll(2) returned "
                    + woken + " after " + wokenMillis + " ms, at its 30 s timeout");
            assertEquals("True", woken);
            assertEquals("closed", a.ask("close"));
        }
    }

    /** POLL requests the daemon has served since the mount ({@code daxfs stat}). */
    private long pollsServed() {
        String stat = Daxfs.daxfs("stat", m.mnt.toString()).expectSuccess().out();
        return stat.lines().map(String::strip).filter(l -> l.startsWith("POLL ")).findFirst()
                .map(l -> Long.parseLong(l.split("\\s+")[1].replace(",", ""))).orElse(0L);
    }

    /**
     * Seed 003 end to end: A holds a lease and keeps reading through its mapping; B truncates
     * the file and rewrites it, then unlinks it; C fills the file system. A never sees B's or C's
     * bytes; the file system says ENOSPC rather than hand A's blocks out; truncate and unlink do
     * not wait for A; once A lets go, the space returns and fsck is clean.
     */
    @Test
    void seed003AHolderNeverSeesOtherBytesAndFreeingNeverWaitsForIt() throws IOException {
        Path f = file("f", random(10, 16 * MIB));
        long before = available();
        try (LeaseProcess a = LeaseProcess.python(f, "watch")) {
            assertTrue(a.line().startsWith("leased " + 16 * MIB), a.stderr());
            String sha = a.ask("sha");

            long t0 = System.nanoTime();
            try (FileChannel c = FileChannel.open(f, StandardOpenOption.WRITE)) {
                c.truncate(0); // B
            }
            long truncateMicros = (System.nanoTime() - t0) / 1000;
            assertEquals("True", a.ask("wait 10"), "A is told its lease broke");
            Files.write(f, random(11, 16 * MIB)); // B rewrites the file: other blocks
            t0 = System.nanoTime();
            Files.delete(f);
            long unlinkMicros = (System.nanoTime() - t0) / 1000;
            System.out.printf("while a lease is held: truncate took %d us, unlink %d us%n", truncateMicros, unlinkMicros);
            assertTrue(truncateMicros < 2_000_000 && unlinkMicros < 2_000_000, "freeing waited for the holder?");

            // C fills the file system: ENOSPC, and at once, not after waiting for A.
            t0 = System.nanoTime();
            Daxfs.Result fill = Daxfs.sh("cd " + q(m.mnt) + " && i=0; while head -c 1048576 /dev/urandom > fill$i; do "
                    + "i=$((i+1)); done; echo filled $i");
            long fillMillis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(fill.err().contains("No space left on device"), fill.toString());
            String filled = fill.out().strip();
            System.out.printf("C wrote %s files of 1 MiB until ENOSPC in %d ms%n", filled.substring("filled ".length()),
                    fillMillis);
            String enospc = Daxfs.python("""
                    import errno, os, sys, time
                    t0 = time.monotonic()
                    try:
                        with open(sys.argv[1], 'wb') as f:
                            f.write(os.urandom(1 << 20)); f.flush(); os.fsync(f.fileno())
                        print('written')
                    except OSError as e:
                        print(errno.errorcode[e.errno], int((time.monotonic() - t0) * 1000))
                    """, m.path("one-more")).strip();
            System.out.println("one more write while full: " + enospc + " ms");
            assertTrue(enospc.startsWith("ENOSPC "), enospc);
            assertTrue(Long.parseLong(enospc.split(" ")[1]) < 2000,
                    "ENOSPC at once: the space A holds is not waited for (the busy wait is 5 s)");

            String[] report = a.ask("report").split(" ");
            assertEquals("0", report[1], "A saw other bytes in its mapping in " + report[1] + " of " + report[0] + " passes");
            assertTrue(Integer.parseInt(report[0]) > 0, "A read its mapping");
            assertEquals(sha, a.ask("sha"), "A's mapping still holds the file's old bytes");
            long whileHeld = available();
            assertEquals("closed", a.ask("close"));
            assertEquals(0, a.finish());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (available() < whileHeld + 15L * MIB && System.nanoTime() < deadline) {
                sleep(50);
            }
            assertTrue(available() >= whileHeld + 15L * MIB, "A's 16 MiB came back: " + whileHeld + " -> " + available());
            Files.write(m.path("after"), random(12, 8 * MIB)); // and can be written again
        }
        shOk("rm -f " + q(m.mnt) + "/fill* " + q(m.path("after")));
        assertTrue(available() >= before - MIB, "everything freed: " + before + " -> " + available());
        m.umount();
        m.fsckClean();
    }

    @Test
    void daxfsLeaseShowsTheExtentsOnTheDevice() throws IOException {
        Path f = m.path("big");
        shOk("fallocate -l 8M " + q(f)); // allocated at once: 2 MiB-congruent
        String out = Daxfs.daxfs("lease", f.toString()).expectSuccess().out();
        List<String> lines = out.strip().lines().toList();
        assertEquals("device " + m.image + " (image file, map alignment 4096)", lines.get(0));
        assertTrue(lines.get(1).matches("lease \\d+ read \\[0, 8388608\\) of .*, \\d+ extents, 2 MiB-congruent"), out);
        long covered = lines.stream().skip(2).mapToLong(l -> Long.parseLong(l.replaceAll(".* length ", ""))).sum();
        assertEquals(8L * MIB, covered, out);
        assertTrue(Daxfs.daxfs("stat", m.mnt.toString()).expectSuccess().out().contains("\nleases: 0"),
                "showing took a lease and gave it back");
    }

    /**
     * A 2 MiB-congruent lease asks for huge pages on its mapping (madvise MADV_HUGEPAGE: what an
     * image on a tmpfs mounted huge=advise waits for; docs/leases.md, "Page size"). The Java
     * client, in this process: its mapping's VmFlags in /proc/self/smaps has "hg".
     */
    @Test
    void aCongruentLeaseMappingAsksForHugePages() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/sys/kernel/mm/transparent_hugepage")), "no transparent huge pages here");
        Path f = m.path("big");
        shOk("fallocate -l 8M " + q(f)); // allocated at once: 2 MiB-congruent
        Files.write(f, random(13, 8 * MIB), StandardOpenOption.WRITE);
        try (io.daxfs.lease.DaxLease lease = io.daxfs.lease.DaxLease.take(f, io.daxfs.lease.DaxLease.Mode.READ, 0, 0)) {
            assertTrue(lease.hugeAligned(), lease.toString());
            java.lang.foreign.MemorySegment s = lease.segment();
            assertEquals(hex(java.util.Arrays.copyOfRange(random(13, 8 * MIB), 5 * MIB, 5 * MIB + 16)),
                    hex(s.asSlice(5 * MIB, 16).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)), "the advice changes no byte");
            List<String> flags = vmFlags(s.address());
            assertTrue(flags.contains("hg"), "the lease's mapping is marked MADV_HUGEPAGE: " + flags);
        }
    }

    /** The VmFlags of the mapping of this process that starts at {@code address} (/proc/self/smaps). */
    private static List<String> vmFlags(long address) throws IOException {
        String start = Long.toHexString(address) + "-";
        boolean in = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                in = line.startsWith(start);
            } else if (in && line.startsWith("VmFlags:")) {
                return List.of(line.substring("VmFlags:".length()).trim().split("\\s+"));
            }
        }
        throw new AssertionError("no mapping starts at " + start + " in /proc/self/smaps");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
