package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.daxfs.it.Daxfs.python;
import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sh;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Without allow_other only the mounting user reaches the file system: the FUSE kernel module
 * refuses every other process (EACCES) before any mode bit is looked at, even with mode 0777
 * everywhere. Here root mounts and uid 1001 (via setpriv) tries stat, listing, open and create
 * of the mount point and of a file in it. PosixSemanticsTest covers the allow_other side.
 */
class MountingUserOnlyTest {
    /**
     * Runs each operation in one Python process as uid {@code uid}; prints "ok" or the errno name
     * for each, one a line.
     */
    private static final String PROBE = """
            import errno, os, sys
            os.setgroups([]); os.setgid(int(sys.argv[1])); os.setuid(int(sys.argv[1]))
            mnt = sys.argv[2]
            ops = [
                ('stat mount point', lambda: os.stat(mnt)),
                ('list mount point', lambda: os.listdir(mnt)),
                ('stat file', lambda: os.stat(mnt + '/f')),
                ('open file', lambda: os.close(os.open(mnt + '/f', os.O_RDONLY))),
                ('create file', lambda: os.close(os.open(mnt + '/new', os.O_CREAT | os.O_WRONLY, 0o644))),
                ('chdir into the mount', lambda: os.chdir(mnt)),
            ]
            for name, op in ops:
                try:
                    op()
                    print(name + ': ok')
                except OSError as e:
                    print(name + ': ' + errno.errorcode[e.errno])
            """;

    private static String probe(int uid, Path mnt) {
        return python(PROBE, uid, mnt);
    }

    private static String expected(String result) {
        return String.join("\n", "stat mount point: " + result, "list mount point: " + result, "stat file: " + result,
                "open file: " + result, "create file: " + result, "chdir into the mount: " + result) + "\n";
    }

    @Test
    void withoutAllowOtherAnotherUserGetsEaccesAndTheMountingUserGetsIn() throws Exception {
        assumeTrue(System.getProperty("user.name").equals("root"), "mounts as root");
        try (DaxfsMount m = DaxfsMount.mounted("32M")) {
            String options = shOk("findmnt -n -o OPTIONS --mountpoint " + q(m.mnt));
            assertEquals(-1, ("," + options.strip() + ",").indexOf(",allow_other,"), "mounted without allow_other: " + options);
            Files.writeString(m.path("f"), "data");
            shOk("chmod 0777 " + q(m.mnt) + " && chmod 0666 " + q(m.path("f")));

            assertEquals(expected("EACCES"), probe(1001, m.mnt), "uid 1001, mode bits that would allow everything");
            assertEquals(expected("ok"), probe(0, m.mnt), "root, the mounting user");
            // The shell tools report it the same way.
            Daxfs.Result ls = sh("setpriv --reuid=1001 --regid=1001 --clear-groups ls " + q(m.mnt));
            assertEquals(2, ls.exit(), ls.toString());
            assertEquals(true, ls.err().contains("Permission denied"), ls.toString());
            m.assertNoDaemonErrors();
        }
    }
}
