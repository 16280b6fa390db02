package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sh;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * chattr and lsattr (e2fsprogs) and xfs_io's chattr through a real mount: the kernel turns
 * them into FUSE_IOCTL requests (FS_IOC_GETFLAGS, FS_IOC_FSGETXATTR, FS_IOC_SETFLAGS,
 * FS_IOC_FSSETXATTR), and what Linux refuses for an immutable or append-only file or
 * directory fails with EPERM ("Operation not permitted") while the rest works. The flags
 * outlive a remount. Only the kernel front ends carry FUSE_IOCTL (libfuse's high-level API
 * forwards it by path, unused by daxfs's libfuse front end: lsattr gets EOPNOTSUPP there, which the
 * first test checks; the others are kernel front end only).
 */
@MountedDaxfs(size = "64M")
class ChattrTest {
    private static final String EPERM = "Operation not permitted";

    private DaxfsMount m;
    @TestDirectory
    private Path d;

    private static void assumeKernelFrontEnd() {
        assumeTrue(!DaxfsMount.FRONTEND.equals("libfuse"), "chattr needs FUSE_IOCTL: the kernel front ends");
    }

    /** Runs {@code script} in the test directory; it must fail with EPERM. */
    private void refused(String script) {
        Daxfs.Result r = sh("cd " + q(d) + " && " + script);
        assertTrue(r.exit() != 0 && r.err().contains(EPERM), "must fail with EPERM: " + r);
    }

    private String lsattr(String name) {
        return shOk("lsattr -d " + q(d.resolve(name))).strip().split("\\s+")[0];
    }

    @Test
    void lsattrShowsWhatChattrSetsAndARemountKeepsIt() throws Exception {
        if (DaxfsMount.FRONTEND.equals("libfuse")) {
            shOk("touch " + q(d.resolve("f")));
            Daxfs.Result r = sh("lsattr " + q(d.resolve("f")));
            assertTrue(r.exit() != 0 && r.err().contains("Operation not supported"), "libfuse: EOPNOTSUPP: " + r);
            return;
        }
        shOk("cd " + q(d) + " && echo hi > f && mkdir sub && chattr +dA f && chattr +S sub");
        assertTrue(lsattr("f").matches("-*dA-*"), lsattr("f"));
        assertTrue(lsattr("sub").matches("--S-*"), lsattr("sub"));
        m.remount();
        assertTrue(lsattr("f").matches("-*dA-*"), "after a remount: " + lsattr("f"));
        String xfsIo = shOk("xfs_io -c lsattr " + q(d.resolve("f"))).strip().split("\\s+")[0];
        assertTrue(xfsIo.contains("d") && xfsIo.contains("A"), "xfs_io lsattr (FS_IOC_FSGETXATTR): " + xfsIo);
        String ctime = shOk("stat -c %Z " + q(d.resolve("f")));
        Thread.sleep(1100);
        shOk("cd " + q(d) + " && chattr -dA f && chattr -S sub");
        assertTrue(!ctime.equals(shOk("stat -c %Z " + q(d.resolve("f")))), "chattr moves ctime, the kernel sees it at once");
        assertTrue(lsattr("f").matches("-+"), lsattr("f"));
        Daxfs.Result unsupported = sh("chattr +c " + q(d.resolve("f")));
        assertTrue(unsupported.exit() != 0 && unsupported.err().contains("Operation not supported"), unsupported.toString());
    }

    @Test
    void anImmutableFileRefusesChangesUntilChattrMinusI() {
        Capabilities.assume(Capabilities.CAP_LINUX_IMMUTABLE, "CAP_LINUX_IMMUTABLE", "the kernel checks it before chattr +i or +a");
        assumeKernelFrontEnd();
        shOk("cd " + q(d) + " && echo hello > f && chattr +i f");
        assertTrue(lsattr("f").matches("-*i-*"), lsattr("f"));
        refused("echo x >> f");
        refused("echo x > f");
        refused("truncate -s 0 f");
        refused("rm f");
        refused("mv f g");
        refused("ln f g");
        refused("chmod 600 f");
        refused("chown 1 f");
        refused("touch f");
        refused("touch -d @1000000000 f");
        refused("setfattr -n user.a -v 1 f");
        refused("xfs_io -c 'falloc 0 4096' f");
        assertEquals("hello\n", shOk("cat " + q(d.resolve("f"))));
        shOk("cd " + q(d) + " && chattr -i f && echo more >> f && rm f");
    }

    @Test
    void anAppendOnlyFileGrowsOnlyAtItsEnd() {
        Capabilities.assume(Capabilities.CAP_LINUX_IMMUTABLE, "CAP_LINUX_IMMUTABLE", "the kernel checks it before chattr +i or +a");
        assumeKernelFrontEnd();
        shOk("cd " + q(d) + " && echo hello > f && chattr +a f && echo more >> f && touch f");
        refused("echo over > f");
        refused("truncate -s 0 f");
        refused(Daxfs.PYTHON + " -c \"import os; os.open('f', os.O_WRONLY)\"");
        refused("rm f");
        refused("mv f g");
        refused("chmod 600 f");
        refused("touch -d @1000000000 f");
        refused("xfs_io -c 'fpunch 0 4096' f");
        assertEquals("hello\nmore\n", shOk("cat " + q(d.resolve("f"))));
        shOk("cd " + q(d) + " && chattr -a f && rm f");
    }

    @Test
    void directoriesImmutableAndAppendOnlyThroughXfsIo() {
        Capabilities.assume(Capabilities.CAP_LINUX_IMMUTABLE, "CAP_LINUX_IMMUTABLE", "the kernel checks it before chattr +i or +a");
        assumeKernelFrontEnd();
        shOk("cd " + q(d) + " && mkdir i a && touch i/f a/f && xfs_io -c 'chattr +i' i && xfs_io -c 'chattr +a' a");
        assertTrue(shOk("xfs_io -c lsattr " + q(d.resolve("i"))).startsWith("--i"), "xfs_io lsattr of i");
        refused("touch i/new");
        refused("rm i/f");
        refused("mkdir i/sub");
        shOk("cd " + q(d) + " && touch a/new && mkdir a/sub");
        refused("rm a/f");
        refused("mv a/f a/g");
        shOk("cd " + q(d) + " && echo data > i/f"); // the files in them are not immutable
        shOk("cd " + q(d) + " && xfs_io -c 'chattr -i' i && chattr -a a && rm -r i a");
    }
}
