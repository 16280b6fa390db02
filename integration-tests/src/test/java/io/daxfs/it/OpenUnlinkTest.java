package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static io.daxfs.it.Daxfs.python;
import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.random;
import static io.daxfs.it.Daxfs.sha256;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Unlink and rename over a file that another process holds open, through a real mount: the
 * name goes at once (no {@code .fuse_hidden*} left in the directory, which can then be
 * removed), the holder keeps reading and writing the data, the space comes back at its close,
 * and after a SIGKILL of the daemon while the file is open the next mount frees it.
 */
@MountedDaxfs(scope = MountedDaxfs.Scope.TEST)
class OpenUnlinkTest {
    private static final int SIZE = 3 << 20;

    /**
     * A python process that opens {@code argv[1]} read-write, creates {@code argv[2]} (ready),
     * waits for {@code argv[3]} (go), then checks the whole content against {@code argv[4]}
     * (SHA-256), writes past the end and reads it back, and exits (closing the file). With
     * {@code argv[3]} = "-" it never goes on: it holds the file until killed.
     */
    private static final String HOLDER = """
            import hashlib, os, sys, time
            path, ready, go, sha = sys.argv[1:5]
            fd = os.open(path, os.O_RDWR)
            open(ready, 'w').close()
            while go == '-' or not os.path.exists(go):
                time.sleep(0.01)
            data = b''
            while True:
                chunk = os.pread(fd, 1 << 20, len(data))
                if not chunk:
                    break
                data += chunk
            if hashlib.sha256(data).hexdigest() != sha:
                print('content differs: %d bytes' % len(data)); sys.exit(1)
            os.pwrite(fd, b'more', len(data))
            if os.pread(fd, 4, len(data)) != b'more':
                print('write through the handle lost'); sys.exit(1)
            os.close(fd)
            print('ok')
            """;

    private DaxfsMount m;

    private Process hold(Path file, String go, byte[] content) throws InterruptedException {
        Path ready = m.dir.resolve("ready-" + System.nanoTime());
        Process p = Daxfs.start(List.of(Daxfs.PYTHON, "-c", HOLDER, file.toString(), ready.toString(), go,
                sha256(content)));
        long deadline = System.currentTimeMillis() + 30_000;
        while (!Files.exists(ready) && p.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        if (!Files.exists(ready)) {
            fail("the holder did not open " + file + ": " + Daxfs.finish(List.of("holder"), p));
        }
        return p;
    }

    /** Free blocks per {@code stat -f}. */
    private long freeBlocks() {
        return Long.parseLong(shOk("stat -f -c %f " + q(m.mnt)).strip());
    }

    /** The kernel sends RELEASE after close(2) returns: waits (bounded) for the space to come back. */
    private void assertFreeBlocksReturnTo(long expected) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        long free = freeBlocks();
        while (free != expected && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            free = freeBlocks();
        }
        assertEquals(expected, free, "free blocks after the last close");
    }

    /**
     * After the holder was told to go on: it exits 0 having read its content ({@code what}
     * names that in a failure), the space comes back to {@code expectedFree} blocks, the daemon
     * logged no error, and fsck finds the image clean after umount.
     */
    private void assertHolderDoneAndSpaceBack(Process holder, String what, long expectedFree)
            throws InterruptedException {
        Daxfs.Result r = Daxfs.finish(List.of("holder"), holder);
        assertEquals(0, r.exit(), what + ": " + r);
        assertEquals("ok", r.out().strip(), r.toString());
        assertFreeBlocksReturnTo(expectedFree);
        m.assertNoDaemonErrors();
        m.umount();
        m.fsckClean();
    }

    private static List<String> lsA(Path dir) {
        return shOk("ls -a " + q(dir)).lines().toList();
    }

    @Test
    void anotherProcessUnlinksAFileThatIsHeldOpen() throws Exception {
        long empty = freeBlocks();
        Path dir = Files.createDirectory(m.path("dir"));
        Path f = dir.resolve("f");
        byte[] data = random(1, SIZE);
        Files.write(f, data);
        Path go = m.dir.resolve("go");
        Process holder = hold(f, go.toString(), data);
        try {
            long held = freeBlocks();
            shOk("rm " + q(f));
            assertEquals(List.of(".", ".."), lsA(dir), "no .fuse_hidden* name");
            assertFalse(Files.exists(f));
            assertEquals(held + 1, freeBlocks(),
                    "only the emptied directory's entry block came back: the data holds its space while open");
            shOk("rmdir " + q(dir));
            assertFalse(Files.exists(dir));
        } finally {
            Files.writeString(go, "");
        }
        assertHolderDoneAndSpaceBack(holder, "holder", empty);
    }

    @Test
    void renameOverAFileThatIsHeldOpen() throws Exception {
        Path target = m.path("target");
        byte[] old = random(2, SIZE);
        Files.write(target, old);
        long oneFile = freeBlocks();
        byte[] fresh = random(3, SIZE);
        Path next = Files.write(m.path("next"), fresh);
        Path go = m.dir.resolve("go");
        Process holder = hold(target, go.toString(), old);
        try {
            shOk("mv -f " + q(next) + " " + q(target));
            assertEquals(List.of(".", "..", "target"), lsA(m.mnt), "no .fuse_hidden* name");
            assertEquals(sha256(fresh), Daxfs.sha256sum(target), "the name shows the new file");
        } finally {
            Files.writeString(go, "");
        }
        assertHolderDoneAndSpaceBack(holder, "holder reads the old file", oneFile);
    }

    @Test
    void killOfTheDaemonWhileAnUnlinkedFileIsOpenFreesItAtTheNextMount() throws Exception {
        long empty = freeBlocks();
        Path f = m.path("f");
        byte[] data = random(4, SIZE);
        Files.write(f, data);
        Process holder = hold(f, "-", data);
        try {
            shOk("rm " + q(f));
            assertEquals(empty - SIZE / 4096, freeBlocks(), "the data still holds its space while open");
            m.killDaemon();
        } finally {
            holder.destroyForcibly(); // its close cannot reach the dead daemon
            holder.waitFor();
            Daxfs.finish(List.of("holder"), holder);
        }
        m.fusermountU();
        Daxfs.Result check = m.fsck();
        assertEquals(0, check.exit(), "fsck: an open unlinked file is an orphan, not an error: " + check);
        assertTrue(check.out().contains("1 orphaned inode(s) holding " + (SIZE / 4096)), check.toString());
        m.mount();
        assertEquals(empty, freeBlocks(), "the orphan was freed at mount");
        assertEquals(List.of(".", ".."), lsA(m.mnt));
        m.umount();
        Daxfs.Result after = m.fsck();
        assertEquals(0, after.exit(), after.toString());
        assertFalse(after.out().contains("orphan"), after.toString());
    }

    /**
     * Every call on an unlinked open file works, as on ext4, the path-based ones included
     * (fstat, fchmod, fchown, futimens, fsetxattr): libfuse addresses the file by its hidden
     * name, which daxfs keeps as an in-memory alias (DaxFileSystem.unlinkKeepingAlias). The
     * sleep outlasts the kernel's 1 s attribute cache, so fstat really asks the daemon.
     */
    @Test
    void everyCallOnAnUnlinkedOpenFileWorks() throws IOException {
        Path f = Files.write(m.path("f"), random(5, 10_000));
        String out = python(UNLINKED_CALLS, f).strip();
        assertEquals("fchmod=ok fstat=ok nlink=0 mode=600 fchown=ok futimens=ok fsetxattr=ok ftruncate=ok fsync=ok "
                + "read=ok size=100", out);
        assertEquals(List.of(".", ".."), lsA(m.mnt));
        m.assertNoDaemonErrors();
    }

    /**
     * A directory removed, or renamed over, while a process has it open: fstat of the
     * descriptor shows it with link count 0 and it stays empty (xfstests generic/035, whose
     * t_rename_overwrite does the rename case), as on ext4; its last close frees it. libfuse 2
     * forgets the path at the removal, so fstat there fails with ENOENT.
     */
    @Test
    void aDirectoryRemovedWhileOpenCanStillBeStatted() throws IOException {
        long empty = freeBlocks();
        Files.createDirectories(m.path("top"));
        String out = python("""
                import os, sys
                top = sys.argv[1]
                out = []
                def fstat_nlink(fd):
                    try:
                        return 'nlink=%d' % os.fstat(fd).st_nlink
                    except OSError as e:
                        return os.strerror(e.errno)
                os.mkdir(top + '/d')
                fd = os.open(top + '/d', os.O_RDONLY | os.O_DIRECTORY)
                os.rmdir(top + '/d')
                out.append(fstat_nlink(fd))
                try:
                    os.mkdir('/proc/self/fd/%d/x' % fd)
                    out.append('created')
                except OSError as e:
                    out.append(os.strerror(e.errno))
                os.close(fd)
                os.mkdir(top + '/a'); os.mkdir(top + '/b')
                fd = os.open(top + '/b', os.O_RDONLY | os.O_DIRECTORY)
                os.rename(top + '/a', top + '/b')
                out.append(fstat_nlink(fd))
                os.close(fd)
                print(' '.join(out))
                """, m.path("top")).strip();
        assertEquals(DaxfsMount.kernelFrontend()
                ? "nlink=0 No such file or directory nlink=0"
                : "No such file or directory No such file or directory No such file or directory", out);
        shOk("rm -r " + q(m.path("top")));
        m.umount();
        m.fsckClean();
        m.mount();
        assertEquals(empty, freeBlocks(), "the removed directories were freed at their last close");
        m.assertNoDaemonErrors();
    }

    /**
     * With {@code -o hard_remove} libfuse forgets the file's path at the unlink: the calls
     * that travel with the file handle still work, the path-based ones get ENOENT (what the
     * option costs, docs/compatibility.md), and nothing reaches the log as an error. The kernel
     * front end addresses files by inode, never by path: the option changes nothing there.
     */
    @Test
    void withHardRemoveThePathBasedCallsFailCleanly() throws IOException {
        m.umount();
        m.mount("hard_remove");
        Path f = Files.write(m.path("f"), random(5, 10_000));
        String out = python(UNLINKED_CALLS, f).strip();
        assertEquals(DaxfsMount.kernelFrontend()
                ? "fchmod=ok fstat=ok nlink=0 mode=600 fchown=ok futimens=ok fsetxattr=ok ftruncate=ok fsync=ok "
                        + "read=ok size=100"
                : "fchmod=No such file or directory fstat=No such file or directory "
                        + "fchown=No such file or directory futimens=No such file or directory "
                        + "fsetxattr=No such file or directory ftruncate=ok fsync=ok read=ok size=?", out);
        m.assertNoDaemonErrors();
        assertTrue(Arrays.stream(m.logText().split("\n")).noneMatch(l -> l.contains("ERROR")), m.logText());
    }

    /** Opens argv[1], unlinks it, waits out the attribute cache, then tries each call on the handle. */
    private static final String UNLINKED_CALLS = """
            import os, sys, time
            fd = os.open(sys.argv[1], os.O_RDWR)
            os.unlink(sys.argv[1])
            time.sleep(1.3)
            results = []
            def fstat():
                st = os.fstat(fd)
                results.append('fstat=ok')
                results.append('nlink=%d' % st.st_nlink)
            def fstat_mode():
                results.append('mode=%o' % (os.fstat(fd).st_mode & 0o7777))
            for name, op in [('fchmod', lambda: os.fchmod(fd, 0o600)),
                             ('fstat', None),
                             ('fchown', lambda: os.fchown(fd, 0, 0)),
                             ('futimens', lambda: os.utime(fd, ns=(1, 2))),
                             ('fsetxattr', lambda: os.setxattr(fd, 'user.k', b'v')),
                             ('ftruncate', lambda: os.ftruncate(fd, 100)),
                             ('fsync', lambda: os.fsync(fd)),
                             ('read', lambda: os.pread(fd, 10, 0))]:
                try:
                    if op is None:
                        fstat()
                        fstat_mode()
                    else:
                        op()
                        results.append(name + '=ok')
                except OSError as e:
                    results.append(name + '=' + os.strerror(e.errno))
            try:
                results.append('size=%d' % os.fstat(fd).st_size)
            except OSError:
                results.append('size=?')
            os.close(fd)
            print(' '.join(results))
            """;
}
