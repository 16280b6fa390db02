package io.daxfs.it;

import org.junit.jupiter.api.Test;

import static io.daxfs.it.Daxfs.python;
import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Paths deeper than PATH_MAX: a chain of 1,000 directories with 200-byte names (about 200 KB
 * of path) is built, walked and torn down with relative steps (mkdir + chdir), as the kernel
 * needs; an absolute path of 4,095 bytes works, one of 4,096 is ENAMETOOLONG (the kernel's
 * PATH_MAX counts the NUL); {@code rm -rf} removes the whole chain; fsck is clean after.
 */
class DeepPathTest {
    static final int DEPTH = 1_000;
    static final int NAME = 200;

    private static final String SCRIPT = """
            import errno, os, sys
            top, depth, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            name = 'd' * width
            os.chdir(top)
            for i in range(depth):
                os.mkdir(name)
                os.chdir(name)
            with open('leaf', 'w') as f:
                f.write('deep')
            print('built', depth)
            # Walk down again from the top, relative steps only, and read the leaf.
            os.chdir(top)
            fd = os.open('.', os.O_RDONLY | os.O_DIRECTORY)
            for i in range(depth):
                nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = nfd
            with open(os.open('leaf', os.O_RDONLY, dir_fd=fd)) as f:
                print('leaf', f.read())
            os.close(fd)
            # Absolute paths at the limit: 4095 bytes work, 4096 are too long.
            def path_of(length):
                p = top
                while len(p) + 1 + width + 1 + 1 <= length:
                    p += '/' + name
                return p + '/' + 'x' * (length - len(p) - 1)
            for length in (4095, 4096):
                p = path_of(length)
                assert len(p) == length and len(os.path.basename(p)) <= 255, (len(p), len(os.path.basename(p)))
                try:
                    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
                    os.stat(p)
                    os.unlink(p)
                    print(length, 'ok')
                except OSError as e:
                    print(length, errno.errorcode[e.errno])
            """;

    @Test
    void aChainDeeperThanPathMaxIsBuiltWalkedAndRemoved() {
        try (DaxfsMount m = DaxfsMount.mounted("64M")) {
            String out = python(SCRIPT, m.mnt, DEPTH, NAME);
            assertEquals("built " + DEPTH + "\nleaf deep\n4095 ok\n4096 ENAMETOOLONG\n", out);
            assertEquals(Integer.toString(DEPTH), shOk("find " + q(m.mnt) + " -mindepth 1 -type d | wc -l").strip(),
                    "find walks the whole chain");
            shOk("rm -rf " + q(m.path("d".repeat(NAME))));
            assertEquals("", shOk("ls -A " + q(m.mnt)), "rm -rf removed the whole chain");
            m.assertNoDaemonErrors();
            m.umount();
            m.fsckClean();
        }
    }
}
