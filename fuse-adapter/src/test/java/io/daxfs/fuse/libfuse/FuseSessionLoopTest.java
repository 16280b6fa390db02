package io.daxfs.fuse.libfuse;

import io.daxfs.fuse.mount.FuseMountException;
import io.daxfs.fuse.mount.MountSession;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real mounts in a temp dir; every test leaves no mount behind. */
class FuseSessionLoopTest {
    static final String[] OPTIONS = {"-o", "big_writes,max_write=131072,fsname=memtest,subtype=daxfs"};
    static final Duration READY = Duration.ofSeconds(10);
    static final int LOCK_SH = 1, LOCK_EX = 2;

    @TempDir
    Path tmp;
    Path mnt;
    MemoryTestFs fs;
    final List<MountSession> loops = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        mnt = Files.createDirectory(tmp.resolve("mnt")).toRealPath();
        fs = new MemoryTestFs();
    }

    @AfterEach
    void tearDown() {
        for (MountSession loop : loops) {
            loop.stop();
        }
        if (Shell.isMounted(mnt)) {
            Shell.run(tmp, "umount -l '" + mnt + "'");
            throw new AssertionError("test left " + mnt + " mounted");
        }
    }

    MountSession mount(FuseSessionLoop.Builder builder) throws InterruptedException {
        MountSession loop = builder.mount();
        loops.add(loop);
        assertTrue(loop.awaitReady(READY), "file system did not become ready");
        return loop;
    }

    MountSession mount() throws InterruptedException {
        return mount(FuseSessionLoop.builder(fs, mnt).options(OPTIONS).threads(4));
    }

    @Test
    void catAndEchoThroughTheMountFromAnotherProcess() throws Exception {
        MountSession loop = mount();
        assertTrue(Shell.isMounted(mnt));
        assertEquals(mnt, loop.mountPoint());

        assertEquals("Hello World!\n", Shell.run(mnt, "cat hello").ok().stdout());
        assertEquals("written\n", Shell.run(mnt, "echo written > data && cat data").ok().stdout());
        assertEquals("appended\n", Shell.run(mnt, "echo appended > new && cat new").ok().stdout());
        // jnr-fuse's getContext() (its own libfuse handle) sees the context our threads set up
        assertEquals(0, fs.createUid);
        assertTrue(fs.createPid > 1 && fs.createPid != ProcessHandle.current().pid(), "pid " + fs.createPid);
        String ls = Shell.run(mnt, "ls").ok().stdout();
        assertTrue(ls.contains("hello") && ls.contains("new"), ls);

        // big_writes,max_write=131072: one 1 MiB dd write arrives in 128 KiB requests, not 4 KiB
        Shell.run(mnt, "dd if=/dev/zero of=data bs=1M count=1 status=none").ok();
        assertEquals(131072, fs.maxWriteSize.get());

        // every callback ran on one of the loop's Java threads
        assertTrue(fs.callbackThreads.stream().allMatch(n -> n.startsWith("daxfs-fuse-mnt-")),
                fs.callbackThreads.toString());
    }

    @Test
    void concurrentReadsFromSeveralProcesses() throws Exception {
        mount();
        // four processes, each reading a different slow file: the four reads must overlap
        List<Process> slow = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 4; i++) {
            slow.add(Shell.start(mnt, "cat slow" + i));
        }
        for (Process p : slow) {
            assertEquals("slow\n", Shell.await(p, "cat slow", Duration.ofSeconds(30)).ok().stdout());
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(4, fs.maxSlowReadsInFlight.get(), "reads in flight at once");
        assertTrue(millis < 4L * MemoryTestFs.SLOW_READ_MILLIS, "took " + millis + " ms, as if serial");

        // and several processes checksumming the same file all see the right bytes
        String expected = HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(MemoryTestFs.bigContent(1 << 20)));
        List<Process> readers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            readers.add(Shell.start(mnt, "sha256sum big"));
        }
        for (Process p : readers) {
            assertEquals(expected, Shell.await(p, "sha256sum", Duration.ofSeconds(30)).ok().stdout().split(" ")[0]);
        }
    }

    @Test
    void utimeOmitLeavesTheOtherTimeAlone() throws Exception {
        mount(); // default flags: UTIME_OMIT_OK
        Shell.run(mnt, "touch -a -d @946684800 data").ok();   // atime only: 2000-01-01
        Shell.run(mnt, "touch -m -d @981173106 data").ok();   // mtime only: 2001-02-03

        MemoryTestFs.UtimensCall last = fs.utimensCalls.getLast();
        assertEquals(MemoryTestFs.UTIME_OMIT, last.atimeNsec(), "atime must arrive as UTIME_OMIT");
        assertEquals(981173106L, last.mtimeSec());
        assertEquals("946684800 981173106\n", Shell.run(mnt, "stat -c '%X %Y' data").ok().stdout());
    }

    @Test
    void withoutUtimeOmitOkLibfuseDropsAnMtimeOnlyChange() throws Exception {
        mount(FuseSessionLoop.builder(fs, mnt).options(OPTIONS).threads(2).flags(Set.of()));
        String before = Shell.run(mnt, "stat -c %Y data").ok().stdout();
        Shell.run(mnt, "touch -m -d @981173106 data").ok(); // succeeds ...
        assertTrue(fs.utimensCalls.isEmpty(), fs.utimensCalls.toString()); // ... but never reaches the FS
        Thread.sleep(1100); // let the attribute cache (1 s) expire
        assertEquals(before, Shell.run(mnt, "stat -c %Y data").ok().stdout());
    }

    @Test
    void fallocateReachesTheFileSystem() throws Exception {
        mount();
        Shell.run(mnt, "fallocate -l 1M data").ok();
        assertEquals(List.of(new MemoryTestFs.FallocateCall("/data", 0, 0, 1 << 20)), fs.fallocateCalls);
        assertEquals("1048576\n", Shell.run(mnt, "stat -c %s data").ok().stdout());
    }

    @Test
    void flockReachesTheFileSystem() throws Exception {
        mount();
        Shell.run(mnt, "flock data true").ok();
        Shell.run(mnt, "flock -s data true").ok();
        List<Integer> ops = fs.flockCalls.stream().map(MemoryTestFs.FlockCall::op).toList();
        assertTrue(ops.contains(LOCK_EX) && ops.contains(LOCK_SH), ops.toString());
    }

    @Test
    void stopUnmountsTearsDownAndIsIdempotent() throws Exception {
        MountSession loop = mount();
        Shell.run(mnt, "cat hello").ok();
        loop.stop();
        assertFalse(Shell.isMounted(mnt));
        assertFalse(Files.readString(Path.of("/proc/mounts")).contains(mnt.toString()));
        assertFalse(loop.isRunning());
        assertTrue(fs.destroyed.get(), "fuse_teardown calls destroy");
        loop.stop();
        loop.close();
        assertTrue(loop.awaitExit(Duration.ZERO));
    }

    @Test
    void externalUnmountEndsTheSession() throws Exception {
        MountSession loop = mount();
        Shell.run(tmp, "umount '" + mnt + "'").ok();
        assertTrue(loop.awaitExit(Duration.ofSeconds(10)), "session did not notice the unmount");
        assertTrue(fs.destroyed.get());
    }

    @Test
    void stopWaitsForAFileClosedWithinTheGrace() throws Exception {
        MountSession loop = mount(FuseSessionLoop.builder(fs, mnt).options(OPTIONS).threads(4)
                .unmountGrace(Duration.ofSeconds(10)));
        Process holder = Shell.start(mnt, "exec 3<hello; echo open; sleep 1; cat <&3");
        assertEquals('o', holder.getInputStream().read());
        long start = System.nanoTime();
        assertTimeoutPreemptively(Duration.ofSeconds(20), loop::stop);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 5000, "took " + millis + " ms: should end when the file is closed, not at the grace");
        Shell.Result r = Shell.await(holder, "holder", Duration.ofSeconds(10));
        assertEquals("pen\nHello World!\n", r.stdout()); // 'o' was read above
        assertEquals(0, r.exitCode(), "the open file kept working during the stop: " + r.stderr());
        assertFalse(Shell.isMounted(mnt));
    }

    @Test
    void stopForcesTheUnmountAfterTheGrace() throws Exception {
        MountSession loop = mount(FuseSessionLoop.builder(fs, mnt).options(OPTIONS).threads(4)
                .unmountGrace(Duration.ofMillis(500)));
        Process holder = Shell.start(mnt, "exec 3<hello; echo open; sleep 30");
        assertEquals('o', holder.getInputStream().read());
        assertTimeoutPreemptively(Duration.ofSeconds(10), loop::stop);
        assertFalse(Shell.isMounted(mnt));
        assertTrue(fs.destroyed.get());
        holder.destroy(); // SIGTERM: the shell's close() of the dead connection must not hang
        assertTrue(holder.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
    }

    @Test
    void missingMountPointGivesAClearError() {
        Path missing = tmp.resolve("nope");
        FuseMountException e = assertThrows(FuseMountException.class,
                () -> FuseSessionLoop.builder(fs, missing).mount());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void busyMountPointGivesAClearError() throws Exception {
        mount();
        FuseMountException e = assertThrows(FuseMountException.class,
                () -> FuseSessionLoop.builder(new MemoryTestFs(), mnt).options(OPTIONS).mount());
        assertTrue(e.getMessage().contains("busy"), e.getMessage());
        assertEquals("Hello World!\n", Shell.run(mnt, "cat hello").ok().stdout()); // first mount unharmed
    }

    @Test
    void nonEmptyMountPointGivesAClearError() throws Exception {
        Files.writeString(mnt.resolve("file"), "x");
        FuseMountException e = assertThrows(FuseMountException.class,
                () -> FuseSessionLoop.builder(fs, mnt).mount());
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        Files.delete(mnt.resolve("file"));
    }

    @Test
    void failingFuseSetupThrowsInsteadOfHanging() {
        FuseMountException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(
                FuseMountException.class,
                () -> FuseSessionLoop.builder(fs, mnt).options("-o", "no_such_option").mount()));
        assertTrue(e.getMessage().contains("fuse_setup failed"), e.getMessage());
        assertFalse(Shell.isMounted(mnt));
    }
}
