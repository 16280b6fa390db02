package io.daxfs.it;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Linux calls beyond what libfuse 2 can carry: renameat2 flags, lseek SEEK_DATA/SEEK_HOLE,
 * copy_file_range, O_TMPFILE with linkat. The kernel front end serves them all; with the libfuse
 * front end each gets the refusal or fallback docs/compatibility.md lists, checked here too so
 * that the table stays true.
 */
@MountedDaxfs(fsck = true)
class LinuxCallsTest {
    @TestDirectory
    private Path d;

    private static String python(String script, Path dir) {
        return shOk("cd " + q(dir.toString()) + " && " + Daxfs.PYTHON + " -c " + q(script)).strip();
    }

    private static final String RENAMEAT2 = """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            def renameat2(a, b, flags):
                if libc.renameat2(-100, a.encode(), -100, b.encode(), flags) != 0:
                    return os.strerror(ctypes.get_errno())
                return 'ok'
            open('a', 'w').write('A'); open('b', 'w').write('B'); os.mkdir('dir')
            out = [renameat2('a', 'b', 1)]                        # NOREPLACE over an existing name
            out.append(renameat2('a', 'c', 1))                    # NOREPLACE to a free name
            out.append(renameat2('c', 'b', 2))                    # EXCHANGE two files
            def content(name):
                return open(name).read() if os.path.isfile(name) else '-'
            out.append(content('b') + content('c'))
            out.append(renameat2('b', 'dir', 2))                  # EXCHANGE a file and a directory
            out.append(str(os.path.isdir('b')) + str(os.path.isfile('dir')))
            out.append(renameat2('c', 'none', 2))                 # EXCHANGE needs both
            print(' '.join(out))
            """;

    @Test
    void renameat2NoReplaceAndExchange() {
        String out = python(RENAMEAT2, d);
        if (DaxfsMount.kernelFrontend()) {
            assertEquals("File exists ok ok AB ok TrueTrue No such file or directory", out);
        } else {
            // libfuse 2's protocol (7.19) has no RENAME2: whatever the VFS does not answer itself
            // (an existing target for NOREPLACE, a missing name) the kernel refuses with EINVAL.
            assertEquals("File exists Invalid argument No such file or directory B- Invalid argument FalseFalse "
                    + "No such file or directory", out);
        }
    }

    private static final String SEEK = """
            import os
            fd = os.open('sparse', os.O_CREAT | os.O_RDWR, 0o644)
            os.pwrite(fd, b'a' * 4096, 1 << 20)
            os.pwrite(fd, b'b' * 8192, 3 << 20)
            os.ftruncate(fd, 5 << 20)
            def seek(off, how):
                try:
                    return str(os.lseek(fd, off, how))
                except OSError as e:
                    return os.strerror(e.errno)
            print(' '.join([seek(0, os.SEEK_DATA), seek(0, os.SEEK_HOLE), seek(1 << 20, os.SEEK_HOLE),
                            seek((1 << 20) + 4096, os.SEEK_DATA), seek((3 << 20) + 8192, os.SEEK_DATA),
                            seek(5 << 20, os.SEEK_HOLE)]))
            """;

    @Test
    void seekDataAndSeekHoleFindTheAllocatedBlocks() {
        String out = python(SEEK, d);
        if (DaxfsMount.kernelFrontend()) {
            assertEquals("1048576 0 1052672 3145728 No such device or address No such device or address", out);
        } else {
            // Without FUSE_LSEEK the kernel's generic answer: all data, one hole at the end.
            assertEquals("0 5242880 5242880 1052672 3153920 No such device or address", out);
        }
    }

    @Test
    void copyFileRangeCopiesExactlyTheRange() throws IOException {
        Path src = d.resolve("src");
        byte[] data = new byte[3_000_000];
        new java.util.Random(3).nextBytes(data);
        Files.write(src, data);
        String out = python("""
                import os
                i = os.open('src', os.O_RDONLY); o = os.open('dst', os.O_CREAT | os.O_RDWR, 0o644)
                n = os.copy_file_range(i, o, 2_500_000, 100_000, 7)
                m = os.copy_file_range(i, o, 10, 2_999_995, 0)   # stops at the end of the source
                print(n, m, os.fstat(o).st_size)
                """, d);
        assertEquals("2500000 5 2500007", out);
        byte[] dst = Files.readAllBytes(d.resolve("dst"));
        for (int i = 0; i < 2_500_000; i++) {
            if (dst[7 + i] != data[100_000 + i]) {
                throw new AssertionError("byte " + i + " differs");
            }
        }
        for (int i = 0; i < 5; i++) {
            assertEquals(data[2_999_995 + i], dst[i], "the second copy went to offset 0");
        }
    }

    private static final String TMPFILE = """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            def link(fd, name):  # linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH)
                if libc.linkat(fd, b'', -100, name.encode(), 0x1000) != 0:
                    return os.strerror(ctypes.get_errno())
                return 'linked'
            def tmp(flags):
                try:
                    return os.open('.', os.O_TMPFILE | os.O_RDWR | flags, 0o600)
                except OSError as e:
                    return os.strerror(e.errno)
            fd = tmp(0)
            if isinstance(fd, str):
                print(fd); raise SystemExit
            os.write(fd, b'unnamed data')
            before = sorted(os.listdir('.'))
            first = link(fd, 'named')
            os.close(fd)
            ex = tmp(os.O_EXCL)
            linked = link(ex, 'never')
            os.close(ex)
            print(before, first, open('named').read(), oct(os.stat('named').st_mode), os.stat('named').st_nlink,
                  linked, sorted(os.listdir('.')))
            """;

    @Test
    void tmpfileIsUnnamedUntilLinkedAndOExclNeverLinks() {
        String out = python(TMPFILE, d);
        if (DaxfsMount.kernelFrontend()) {
            assertEquals("[] linked unnamed data 0o100600 1 No such file or directory ['named']", out);
        } else {
            assertEquals("Operation not supported", out);
        }
    }
    /**
     * statx's birth time (STATX_BTIME): daxfs stores when each inode was made and the kernel
     * front end answers FUSE_STATX with it; writes, chmod and renames leave it. libfuse 2's
     * protocol has no STATX: the birth time is unknown there (stat prints 0).
     */
    @Test
    void statxShowsTheBirthTime() throws Exception {
        long before = System.currentTimeMillis() / 1000;
        Path f = Files.writeString(d.resolve("born"), "x");
        String first = shOk("stat -c %W " + q(f)).strip();
        Thread.sleep(1100);
        shOk("echo more >> " + q(f) + " && chmod 600 " + q(f) + " && mv " + q(f) + " " + q(d.resolve("moved")));
        String after = shOk("stat -c '%W %Y' " + q(d.resolve("moved"))).strip();
        if (DaxfsMount.kernelFrontend()) {
            long born = Long.parseLong(first);
            assertTrue(born >= before && born <= before + 5, first + " vs " + before);
            assertEquals(first, after.split(" ")[0], "the birth time stays");
            assertTrue(Long.parseLong(after.split(" ")[1]) > born, "while mtime moved: " + after);
        } else {
            assertEquals("0", first);
        }
    }
    /**
     * File handles (name_to_handle_at, open_by_handle_at; what NFS exports use) outlive the
     * kernel's inode cache: after drop_caches the kernel asks daxfs for the inode by number
     * (LOOKUP of ".", FUSE_EXPORT_SUPPORT) and reconnects a directory through ".."; a file that
     * was deleted is stale (ESTALE). xfstests generic/426, 467, 477, 756, 777. libfuse 2 offers
     * no export support: every handle is stale once its inode left the cache.
     */
    @Test
    void fileHandlesOpenAfterTheInodeCacheWasDropped() throws IOException {
        Capabilities.assume(Capabilities.CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH", "open_by_handle_at needs it");
        assumeTrue(Files.isWritable(Path.of("/proc/sys/vm/drop_caches")),
                "drops the kernel's caches through /proc/sys/vm/drop_caches, read-only here (a container?)");
        Path dir = Files.createDirectories(d.resolve("h/sub"));
        Files.writeString(dir.resolve("f"), "handled");
        Files.writeString(dir.resolve("gone"), "x");
        String out = python("""
                import ctypes, os
                libc = ctypes.CDLL(None, use_errno=True)
                class Handle(ctypes.Structure):
                    _fields_ = [('size', ctypes.c_uint), ('type', ctypes.c_int), ('data', ctypes.c_ubyte * 128)]
                def handle(path):
                    h = Handle(); h.size = 128; mount_id = ctypes.c_int()
                    if libc.name_to_handle_at(-100, path.encode(), ctypes.byref(h), ctypes.byref(mount_id), 0) != 0:
                        raise OSError(ctypes.get_errno(), path)
                    return h
                def open_handle(h, flags):
                    fd = libc.open_by_handle_at(mount_fd, ctypes.byref(h), flags)
                    return fd if fd >= 0 else os.strerror(ctypes.get_errno())
                mount_fd = os.open('.', os.O_RDONLY | os.O_DIRECTORY)  # any descriptor on the mount
                f, sub, gone = handle('h/sub/f'), handle('h/sub'), handle('h/sub/gone')
                os.unlink('h/sub/gone')
                os.chdir('/')
                def drop():
                    with open('/proc/sys/vm/drop_caches', 'w') as c:
                        c.write('3')
                drop()
                out = []
                fd = open_handle(f, os.O_RDONLY)
                out.append(os.read(fd, 100).decode() if isinstance(fd, int) else fd)
                drop()
                fd = open_handle(sub, os.O_RDONLY | os.O_DIRECTORY)
                out.append(str(sorted(os.listdir(fd))) if isinstance(fd, int) else fd)
                out.append(str(open_handle(gone, os.O_RDONLY)))
                print(' '.join(out))
                """, d);
        if (DaxfsMount.kernelFrontend()) {
            assertEquals("handled ['f'] Stale file handle", out);
        } else {
            assertEquals("Stale file handle Stale file handle Stale file handle", out);
        }
    }
    /**
     * renameat2 RENAME_WHITEOUT (what overlayfs does in its upper directory): the file moves,
     * and its old name becomes a whiteout, a character device 0/0 with mode 0 owned by the
     * caller. xfstests generic/078, 626, 700. libfuse 2: EINVAL (no RENAME2).
     */
    @Test
    void renameat2WhiteoutLeavesACharacterDevice() {
        String out = python("""
                import ctypes, os, stat
                libc = ctypes.CDLL(None, use_errno=True)
                open('a', 'w').write('A'); open('b', 'w').write('B')
                if libc.renameat2(-100, b'a', -100, b'b', 4) != 0:
                    print(os.strerror(ctypes.get_errno())); raise SystemExit
                st = os.lstat('a')
                print(open('b').read(), stat.S_ISCHR(st.st_mode), oct(st.st_mode & 0o7777), os.major(st.st_rdev),
                      os.minor(st.st_rdev), st.st_uid, sorted(os.listdir('.')))
                """, d);
        if (DaxfsMount.kernelFrontend()) {
            assertEquals("A True 0o0 0 0 0 ['a', 'b']", out);
        } else {
            assertEquals("Invalid argument", out);
        }
    }
}
