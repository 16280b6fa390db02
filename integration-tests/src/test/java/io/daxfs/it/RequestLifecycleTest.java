package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What becomes of requests in flight when their caller gets a signal, when the daemon is
 * killed, and when the mount is detached while a file is open. The answers are the kernel's
 * and must not depend on the transport: the suite runs once per front end, and with
 * {@code frontend=uring} the requests travel on the rings while the kernel sends the
 * INTERRUPTs and FORGETs through /dev/fuse (docs/uring-frontend.md, "Failure modes").
 */
@MountedDaxfs(scope = MountedDaxfs.Scope.TEST, size = "1G")
class RequestLifecycleTest {
    private static final int MIB = 1 << 20;

    private DaxfsMount m;

    /**
     * Runs copy_file_range of {@code argv[3]} MiB from argv[1] to argv[2] in one call while a
     * timer sends this process SIGALRM every millisecond (a handler counts them; no SA_RESTART,
     * so an interruptible wait would return EINTR). Prints the bytes copied and the signals.
     */
    private static final String COPY_UNDER_SIGNALS = """
            import os, signal, sys
            src, dst, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
            hits = 0
            def count(sig, frame):
                global hits
                hits += 1
            signal.signal(signal.SIGALRM, count)
            signal.siginterrupt(signal.SIGALRM, True)
            fi = os.open(src, os.O_RDONLY)
            fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            open(sys.argv[4], 'w').close()
            signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
            n = os.copy_file_range(fi, fo, mib << 20)
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            print(n, hits)
            """;

    /**
     * A caller signalled again and again while its request is in the daemon: the kernel sends
     * FUSE_INTERRUPT, daxfs lets the request run to its end (it never answers EINTR), and the
     * caller gets the whole result. copy_file_range of 256 MiB is one request with daxfs's own
     * protocol (copied inside the daemon), so the first signal arrives while it is in flight (the
     * next ones wait: once the request is in user space the caller waits uninterruptibly).
     */
    @Test
    void aSignalledCallerGetsTheWholeResult() throws Exception {
        assumeTrue(DaxfsMount.kernelFrontend(), "libfuse 2 has no copy_file_range: the kernel copies in small pieces");
        Path src = m.path("src");
        Path dst = m.path("dst");
        shOk("head -c " + 256 * MIB + " /dev/urandom > " + q(src));
        String want = Daxfs.sha256sum(src);
        for (int round = 0; round < 3; round++) {
            Daxfs.Result r = Daxfs.exec(List.of(Daxfs.PYTHON, "-c", COPY_UNDER_SIGNALS, src.toString(), dst.toString(),
                    "256", m.dir.resolve("started").toString()));
            assertEquals(0, r.exit(), r.toString());
            String[] out = r.out().strip().split(" ");
            assertEquals(256L * MIB, Long.parseLong(out[0]), "copy_file_range returns everything: " + r);
            assertTrue(Integer.parseInt(out[1]) > 0, "signals arrived during the call: " + r);
            assertEquals(want, Daxfs.sha256sum(dst), "round " + round);
        }
        m.assertNoDaemonErrors();
        m.umount();
        m.fsckClean();
    }

    /**
     * SIGKILL of a caller whose request is in the daemon (a copy_file_range of 384 MiB, half a
     * second): the kernel waits for the answer (the request is already in user space), then the
     * process dies; daxfs finished the copy, and the mount goes on serving.
     */
    @Test
    void aCallerKilledDuringItsRequestDiesAndTheMountGoesOn() throws Exception {
        assumeTrue(DaxfsMount.kernelFrontend(), "libfuse 2 has no copy_file_range: the kernel copies in small pieces");
        Path src = m.path("src");
        Path dst = m.path("dst");
        shOk("head -c " + 384 * MIB + " /dev/urandom > " + q(src));
        Path started = m.dir.resolve("started");
        Process p = Daxfs.start(List.of(Daxfs.PYTHON, "-c", COPY_UNDER_SIGNALS, src.toString(), dst.toString(), "384",
                started.toString()));
        long deadline = System.currentTimeMillis() + 60_000;
        while (!Files.exists(started) && p.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(2);
        }
        Thread.sleep(30); // into the copy
        p.destroyForcibly(); // SIGKILL
        assertTrue(p.waitFor(Daxfs.PROCESS_LIMIT_SECONDS, TimeUnit.SECONDS), "the killed caller exits");
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
        Daxfs.finish(List.of("copy"), p);
        // The daemon answered the copy; the mount serves the next requests.
        shOk("echo after > " + q(m.path("after")) + " && cat " + q(m.path("after")));
        assertEquals(384L * MIB, Files.size(dst), "daxfs finished the request the kernel waited for");
        assertEquals(Daxfs.sha256sum(src), Daxfs.sha256sum(dst));
        m.assertNoDaemonErrors();
        m.umount();
        m.fsckClean();
    }

    /** Writes, reads and creates files in a loop until an OSError; prints its errno name. */
    private static final String BUSY = """
            import errno, os, sys
            d, ready = sys.argv[1], sys.argv[2]
            os.makedirs(d, exist_ok=True)
            buf = os.urandom(1 << 20)
            i = 0
            try:
                open(ready, 'w').close()
                while True:
                    p = os.path.join(d, 'f%d' % (i % 50))
                    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
                    os.pwrite(fd, buf, 0)
                    os.pread(fd, 1 << 20, 0)
                    os.close(fd)
                    os.stat(d)
                    i += 1
            except OSError as e:
                print(errno.errorcode[e.errno], i)
            """;

    /**
     * SIGKILL of the daemon while six processes are in the middle of requests: every one of them
     * gets an error at once - ECONNABORTED for a request in flight, ENOTCONN after (over io_uring
     * also ECANCELED, {@link #errorsAfterTheDaemonDied}) - and none hangs; fusermount -u
     * removes the dead mount, fsck finds the image clean and it mounts again.
     */
    @Test
    void killingTheDaemonFailsTheRequestsInFlightAndHangsNone() throws Exception {
        List<Process> busy = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Path ready = m.dir.resolve("ready-" + i);
            busy.add(Daxfs.start(List.of(Daxfs.PYTHON, "-c", BUSY, m.path("w" + i).toString(), ready.toString())));
            long deadline = System.currentTimeMillis() + 60_000;
            while (!Files.exists(ready) && busy.get(i).isAlive() && System.currentTimeMillis() < deadline) {
                Thread.sleep(2);
            }
        }
        Thread.sleep(300); // all of them busy
        m.killDaemon();
        for (Process p : busy) {
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "a process with a request in flight returns after the daemon died");
            Daxfs.Result r = Daxfs.finish(List.of("busy"), p);
            assertEquals(0, r.exit(), r.toString());
            String[] out = r.out().strip().split(" ");
            assertTrue(errorsAfterTheDaemonDied().contains(out[0]), "the error a caller sees: " + r);
            assertTrue(Integer.parseInt(out[1]) > 0, "it did some work first: " + r);
        }
        m.fusermountU();
        m.fsckClean();
        m.mount();
        shOk("ls " + q(m.path("w0")) + " > /dev/null");
    }

    /**
     * ECONNABORTED for a request the daemon had (or the abort found queued), ENOTCONN for one
     * made after. Over io_uring a request the kernel was handing to an entry of the dying
     * daemon ends with ECANCELED instead (fs/fuse/dev_uring.c, fuse_uring_send_in_task: the
     * ring's task work runs cancelled once the daemon exits); docs/compatibility.md.
     */
    private static Set<String> errorsAfterTheDaemonDied() {
        return DaxfsMount.uringFrontend() ? Set.of("ECONNABORTED", "ENOTCONN", "ECANCELED")
                : Set.of("ECONNABORTED", "ENOTCONN");
    }

    /**
     * umount -l while a process holds a file open: the name space goes at once, the holder keeps
     * reading and writing through its descriptor, and when it closes the file the connection
     * ends and the daemon exits by itself, leaving a clean image.
     */
    @Test
    void aLazyUnmountEndsTheDaemonAtTheLastClose() throws Exception {
        Path f = m.path("held");
        shOk("head -c " + 3 * MIB + " /dev/urandom > " + q(f));
        String want = Daxfs.sha256sum(f);
        Path ready = m.dir.resolve("ready");
        Path go = m.dir.resolve("go");
        String holder = """
                import hashlib, os, sys, time
                fd = os.open(sys.argv[1], os.O_RDWR)
                open(sys.argv[2], 'w').close()
                while not os.path.exists(sys.argv[3]):
                    time.sleep(0.01)
                data = os.pread(fd, 3 << 20, 0)
                os.pwrite(fd, b'tail', 3 << 20)
                assert os.pread(fd, 4, 3 << 20) == b'tail'
                os.close(fd)
                print(hashlib.sha256(data).hexdigest())
                """;
        Process p = Daxfs.start(List.of(Daxfs.PYTHON, "-c", holder, f.toString(), ready.toString(), go.toString()));
        long deadline = System.currentTimeMillis() + 60_000;
        while (!Files.exists(ready) && p.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        long daemon = m.pid();
        shOk("umount -l " + q(m.mnt));
        assertTrue(DaxfsMount.mountType(m.mnt).isEmpty(), "detached at once");
        Thread.sleep(200);
        assertTrue(ProcessHandle.of(daemon).map(ProcessHandle::isAlive).orElse(false),
                "the daemon serves the open file after the detach");
        Files.createFile(go);
        Daxfs.Result r = Daxfs.finish(List.of("holder"), p);
        assertEquals(0, r.exit(), r.toString());
        assertEquals(want, r.out().strip(), "the holder read the file through the detached mount");
        ProcessHandle h = ProcessHandle.of(daemon).orElse(null);
        if (h != null) {
            try {
                h.onExit().get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                fail("the daemon did not exit after the last close of the detached mount\n" + m.logText());
            }
        }
        assertFalse(m.logText().contains(" ERROR "), m.logText());
        m.forgetDaemon();
        m.fsckClean();
    }
}
