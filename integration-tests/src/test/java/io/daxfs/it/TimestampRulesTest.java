package io.daxfs.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which calls change atime, mtime and ctime, through a real mount: one table row per POSIX
 * rule, each in a fresh directory. A row runs a setup, waits a little, stats, runs the action
 * and stats again (lstat, nanoseconds): every listed path must show exactly the listed changes.
 *
 * <p>The kernel caches attributes for 1 s (attr_timeout) but drops its copy after each
 * operation that can change them - a read or readdir that reached the daemon (atime), a write,
 * setattr, fallocate, link, unlink, rename, setxattr - so the stat right after the action
 * asks the daemon. A read must reach the daemon to count: with kernel_cache, a read served
 * from the page cache never does, so the read rows first drop the file's clean pages
 * (posix_fadvise DONTNEED), as a cold read would find them (docs/compatibility.md).
 *
 * <p>The default mount is relatime; the last tests mount with strictatime, noatime and
 * nodiratime through the mount(8) helper, exactly as {@code mount -t fuse.daxfs -o ...} does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@MountedDaxfs(size = "64M")
class TimestampRulesTest {
    /** lstat times in ns; read (cold: page cache dropped first); read through a shared mapping. */
    private static final String TOOL = """
            import mmap, os, sys
            cmd, paths = sys.argv[1], sys.argv[2:]
            if cmd == 'stat':
                for p in paths:
                    s = os.lstat(p)
                    print(s.st_atime_ns, s.st_mtime_ns, s.st_ctime_ns)
            elif cmd in ('read', 'mmapread'):
                fd = os.open(paths[0], os.O_RDONLY)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                if cmd == 'read':
                    os.read(fd, 1 << 20)
                else:
                    with mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ) as m:
                        m[0]
                os.close(fd)
            """;

    private DaxfsMount m;
    private Path tool;
    private int rowNumber;

    @BeforeAll
    void writeTool() throws IOException {
        tool = Files.writeString(m.dir.resolve("tool.py"), TOOL);
    }

    /**
     * @param expect space-separated {@code PATH:amc}: a letter where that time must change, '-'
     *               where it must not; {@code NEW<OLD:amc} stats OLD before and NEW after (rename);
     *               a leading {@code ~} waits out the kernel's 1 s attribute cache first: each name
     *               of a hard-linked file is its own kernel node (libfuse 2 high level), and a
     *               change made through one name leaves the other name's cached times valid
     */
    record Rule(String name, String setup, String action, String expect) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Rule> rules() {
        String file = "echo data > f";
        String aged = file + "; touch -a -d 2001-01-01 f"; // atime before ctime: stale under relatime
        return Stream.of(
                // accesses (relatime)
                new Rule("read(2) of a file whose atime is stale", aged, "$T read f", "f:a--"),
                new Rule("read(2) again: atime already after mtime and ctime (relatime)", file + "; $T read f",
                        "$T read f", "f:---"),
                new Rule("a read after a write updates atime (relatime)", file + "; $T read f; echo more >> f",
                        "$T read f", "f:a--"),
                new Rule("mmap page fault read", aged, "$T mmapread f", "f:a--"),
                new Rule("readdir (getdents)", "mkdir d; touch d/x; touch -a -d 2001-01-01 d", "ls d", "d:a--"),
                new Rule("readlink", "ln -s target l", "readlink l", "l:a--"),
                new Rule("stat is no access", aged, "stat f", "f:---"),
                // contents
                new Rule("write", file, "echo more >> f", "f:-mc"),
                new Rule("truncate (grow)", file, "truncate -s 100000 f", "f:-mc"),
                new Rule("truncate (shrink)", file, "truncate -s 1 f", "f:-mc"),
                new Rule("open with O_TRUNC", file, "echo new > f", "f:-mc"),
                new Rule("fallocate that grows the file", file, "fallocate -l 1M f", "f:-mc"),
                new Rule("fallocate KEEP_SIZE (allocation only)", file, "fallocate -n -l 1M f", "f:--c"),
                new Rule("fallocate PUNCH_HOLE", "head -c 16384 /dev/urandom > f", "fallocate -p -o 4096 -l 4096 f",
                        "f:-mc"),
                new Rule("fallocate ZERO_RANGE", "head -c 16384 /dev/urandom > f", "fallocate -z -o 0 -l 4096 f",
                        "f:-mc"),
                // attributes
                new Rule("chmod", file, "chmod 600 f", "f:--c"),
                new Rule("chown", file, "chown 1000:1000 f", "f:--c"),
                new Rule("setxattr", file, "setfattr -n user.k -v v f", "f:--c"),
                new Rule("removexattr", file + "; setfattr -n user.k -v v f", "setfattr -x user.k f", "f:--c"),
                new Rule("utimensat of mtime only (touch -m)", file, "touch -m -d 2010-01-01 f", "f:-mc"),
                // namespace
                new Rule("create", "mkdir d", "touch d/new", "d:-mc"),
                new Rule("mkdir", "mkdir d", "mkdir d/sub", "d:-mc"),
                new Rule("mknod (fifo)", "mkdir d", "mkfifo d/p", "d:-mc"),
                new Rule("symlink", "mkdir d", "ln -s x d/l", "d:-mc"),
                new Rule("link", "mkdir d; echo x > d/f", "ln d/f d/g", "~d/f:--c d:-mc"),
                new Rule("unlink of one of two links", "mkdir d; echo x > d/f; ln d/f d/g", "rm d/g", "~d/f:--c d:-mc"),
                new Rule("rmdir", "mkdir -p d/sub", "rmdir d/sub", "d:-mc"),
                new Rule("rename within a directory", "mkdir d; echo x > d/f", "mv d/f d/g", "d/g<d/f:--c d:-mc"),
                new Rule("rename across directories", "mkdir d e; echo x > d/f", "mv d/f e/f",
                        "e/f<d/f:--c d:-mc e:-mc"),
                new Rule("rename of a directory across directories", "mkdir -p d/s e", "mv d/s e/s",
                        "e/s<d/s:--c d:-mc e:-mc"),
                new Rule("rename over an existing file", "mkdir d; echo x > d/f; echo y > d/g; ln d/g d/h",
                        "mv d/f d/g", "d/g<d/f:--c ~d/h:--c d:-mc"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void timesChangeExactlyAsPosixSays(Rule rule) throws Exception {
        Path dir = Files.createDirectory(m.path("r" + (++rowNumber)));
        run(dir, rule.setup());
        // Stores skip a time that has not moved by a millisecond (coarse times, as Linux).
        Thread.sleep(20);
        String[] specs = rule.expect().split(" ");
        List<String> before = new ArrayList<>();
        List<String> after = new ArrayList<>();
        boolean waitForAttributeCache = false;
        for (int i = 0; i < specs.length; i++) {
            if (specs[i].startsWith("~")) {
                waitForAttributeCache = true;
                specs[i] = specs[i].substring(1);
            }
            String paths = specs[i].substring(0, specs[i].indexOf(':'));
            int lt = paths.indexOf('<');
            after.add(lt < 0 ? paths : paths.substring(0, lt));
            before.add(lt < 0 ? paths : paths.substring(lt + 1));
        }
        List<long[]> t0 = stat(dir, before);
        run(dir, rule.action());
        if (waitForAttributeCache) {
            Thread.sleep(1100);
        }
        List<long[]> t1 = stat(dir, after);
        StringBuilder wrong = new StringBuilder();
        for (int i = 0; i < specs.length; i++) {
            String want = specs[i].substring(specs[i].indexOf(':') + 1);
            StringBuilder got = new StringBuilder();
            for (int k = 0; k < 3; k++) {
                got.append(t0.get(i)[k] != t1.get(i)[k] ? "amc".charAt(k) : '-');
            }
            if (!got.toString().equals(want)) {
                wrong.append(String.format("%n  %s: expected %s, got %s (before %s, after %s)", after.get(i), want, got,
                        java.util.Arrays.toString(t0.get(i)), java.util.Arrays.toString(t1.get(i))));
            }
        }
        assertEquals("", wrong.toString(), rule.name() + ": " + rule.action());
    }

    private void run(Path dir, String script) {
        shOk("set -e; T=" + q(Daxfs.PYTHON + " " + tool) + "; cd " + q(dir) + "; " + script);
    }

    private List<long[]> stat(Path dir, List<String> paths) {
        StringBuilder cmd = new StringBuilder("cd " + q(dir) + " && " + Daxfs.PYTHON + " " + q(tool) + " stat");
        for (String p : paths) {
            cmd.append(' ').append(q(p));
        }
        return shOk(cmd.toString()).lines()
                .map(l -> Stream.of(l.split(" ")).mapToLong(Long::parseLong).toArray()).toList();
    }

    private long atime(Path p) {
        return stat(p.getParent(), List.of(p.getFileName().toString())).getFirst()[0];
    }

    // ------------------------------------------------------------------ mount options

    /** A second file system mounted through the helper with {@code options}; file f and directory d. */
    private DaxfsMount mountWith(String options) throws IOException {
        DaxfsMount other = DaxfsMount.empty();
        other.mkfs("32M");
        other.mountWithHelper(options);
        Files.writeString(other.path("f"), "data");
        Files.createDirectories(other.path("d/x"));
        shOk("touch -a -d 2001-01-01 " + q(other.path("f")) + " " + q(other.path("d")));
        return other;
    }

    private void coldRead(Path f) {
        shOk(Daxfs.PYTHON + " " + q(tool) + " read " + q(f));
    }

    @Test
    void strictatimeUpdatesOnEveryReadThatReachesTheDaemon() throws Exception {
        try (DaxfsMount s = mountWith("rw,strictatime")) {
            Path f = s.path("f");
            coldRead(f);
            long first = atime(f);
            Thread.sleep(20);
            coldRead(f);
            assertTrue(atime(f) > first, "strictatime: a second read moves atime again");
            long dirFirst = atime(s.path("d"));
            Thread.sleep(20);
            shOk("ls " + q(s.path("d")));
            assertTrue(atime(s.path("d")) > dirFirst, "and so does every listing");
            s.assertNoDaemonErrors();
        }
    }

    /** Warm reads: nothing drops the page cache; the same descriptor reads the same bytes twice. */
    private static final String WARM_READS = """
            import mmap, os, sys, time
            p = sys.argv[1]
            def atime():
                return os.stat(p).st_atime_ns
            fd = os.open(p, os.O_RDWR)
            os.pread(fd, 4, 0)
            seen = [atime()]
            for i in range(3):
                time.sleep(0.02)
                os.pread(fd, 4, 0)
                seen.append(atime())
            with mmap.mmap(fd, 0, mmap.MAP_SHARED) as m:
                m[0:1] = b'D'
            os.pwrite(fd, b'A', 1)
            with mmap.mmap(fd, 0, mmap.MAP_SHARED) as m:
                print(m[0:4].decode(), end=' ')
            os.close(fd)
            print(' '.join(str(b - a) for a, b in zip(seen, seen[1:])))
            """;

    @Test
    void strictatimeMovesAtimeOnEveryReadAlsoOnesThePageCacheCouldServe() throws Exception {
        // The kernel front ends open files FOPEN_DIRECT_IO under strictatime, with
        // DIRECT_IO_ALLOW_MMAP agreed at INIT; libfuse 2 (protocol 7.19) cannot agree to that,
        // so there reads served from the page cache leave atime (docs/compatibility.md).
        org.junit.jupiter.api.Assumptions.assumeTrue(DaxfsMount.kernelFrontend(), "kernel front ends only");
        try (DaxfsMount s = mountWith("rw,strictatime")) {
            Path f = s.path("f");
            shOk("cat " + q(f) + " > /dev/null");
            long first = atime(f);
            Thread.sleep(20);
            shOk("cat " + q(f) + " > /dev/null"); // the pages are cached from the first cat
            assertTrue(atime(f) > first, "strictatime: a second cat moves atime");
            String[] out = Daxfs.python(WARM_READS, f).strip().split(" ");
            assertEquals("DAta", out[0], "a shared mapping and pwrite see each other");
            for (int i = 1; i < out.length; i++) {
                assertTrue(Long.parseLong(out[i]) > 0, "read " + i + " again on one descriptor moves atime: "
                        + String.join(" ", out));
            }
            s.assertNoDaemonErrors();
        }
    }

    @Test
    void noatimeNeverUpdatesAndShowsInTheMountTable() throws Exception {
        try (DaxfsMount s = mountWith("rw,noatime")) {
            long f0 = atime(s.path("f"));
            long d0 = atime(s.path("d"));
            coldRead(s.path("f"));
            shOk("ls " + q(s.path("d")) + "; " + Daxfs.PYTHON + " " + q(tool) + " mmapread " + q(s.path("f")));
            assertEquals(f0, atime(s.path("f")), "noatime: reads leave atime");
            assertEquals(d0, atime(s.path("d")), "noatime: listings leave atime");
            String options = shOk("findmnt -n -o OPTIONS --mountpoint " + q(s.mnt));
            assertTrue(("," + options.strip() + ",").contains(",noatime,"), "mount table: " + options);
            s.assertNoDaemonErrors();
        }
    }

    @Test
    void nodiratimeSparesDirectoriesOnly() throws Exception {
        try (DaxfsMount s = mountWith("rw,relatime,nodiratime")) {
            long f0 = atime(s.path("f"));
            long d0 = atime(s.path("d"));
            coldRead(s.path("f"));
            shOk("ls " + q(s.path("d")));
            assertNotEquals(f0, atime(s.path("f")), "files: relatime");
            assertEquals(d0, atime(s.path("d")), "nodiratime: listings leave the directory's atime");
            s.assertNoDaemonErrors();
        }
    }
}
