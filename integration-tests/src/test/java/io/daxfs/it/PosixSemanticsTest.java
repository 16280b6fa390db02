package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.daxfs.it.Daxfs.python;
import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sh;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * POSIX behaviour that real programs rely on, through a mount with allow_other (so other
 * users created by the test, here uids 1000 and 1001 via setpriv, can reach it):
 * flock and record locks across processes, setuid/setgid clearing on chown and on writes by
 * unprivileged users, and permission checks for other users by the mode bits.
 */
@MountedDaxfs(size = "64M", options = "allow_other", rootMode = "rwxrwxrwx")
class PosixSemanticsTest {
    private DaxfsMount m;

    private static String as(int uid, String script) {
        return "setpriv --reuid=" + uid + " --regid=" + uid + " --clear-groups sh -c " + q(script);
    }

    private static void assumeSetpriv() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is not installed");
    }

    @Test
    void flockIsExclusiveAcrossProcesses() {
        Path f = m.mnt.resolve("flock");
        shOk("touch " + q(f));
        // One process holds the lock while a second tries without waiting.
        String out = shOk("flock -x " + q(f) + " sh -c 'sleep 1' & sleep 0.3; "
                + "if flock -n -x " + q(f) + " true; then echo free; else echo held; fi; wait");
        assertEquals("held", out.strip());
        assertEquals("free", shOk("flock -n -x " + q(f) + " echo free").strip(), "released after the holder exits");
    }

    @Test
    void posixRecordLocksAreExclusiveAcrossProcesses() {
        Path f = m.mnt.resolve("lockf");
        shOk("touch " + q(f));
        String probe = "import fcntl,os,sys\nfd=os.open(sys.argv[1],os.O_RDWR)\n"
                + "try:\n fcntl.lockf(fd,fcntl.LOCK_EX|fcntl.LOCK_NB,10,0);print('free')\n"
                + "except OSError:\n print('held')\n";
        String holder = "import fcntl,os,sys,subprocess\nfd=os.open(sys.argv[1],os.O_RDWR)\n"
                + "fcntl.lockf(fd,fcntl.LOCK_EX,10,0)\n"
                + "print(subprocess.run([sys.executable,'-c',sys.argv[2],sys.argv[1]],capture_output=True,text=True).stdout.strip())\n";
        String out = python(holder, f, probe);
        assertEquals("held", out.strip(), "bytes 0..9 are locked by the first process");
    }

    @Test
    void chownAndUnprivilegedWritesClearSetuidAndSetgid() {
        assumeSetpriv();
        Path f = m.mnt.resolve("suid");
        shOk("echo x > " + q(f) + " && chmod 6755 " + q(f) + " && chown 1000:1000 " + q(f));
        assertEquals("755", shOk("stat -c %a " + q(f)).strip(), "chown clears setuid and setgid");
        shOk("chmod 6777 " + q(f));
        shOk(as(1001, "echo more >> " + f));
        assertEquals("777", shOk("stat -c %a " + q(f)).strip(), "a write by an unprivileged user clears them");
    }

    /**
     * fallocate, punch hole and zero range by a user without CAP_FSETID take set-user-ID and
     * set-group-ID away as a write does (xfstests generic/683, 684, 685): set-user-ID always;
     * set-group-ID with group-execute, and without it unless the user is in the file's group.
     * Root keeps them. libfuse 2's protocol has no HANDLE_KILLPRIV: the kernel computes the
     * mode there, keeping set-group-ID without group-execute.
     */
    @Test
    void fallocatePunchAndZeroRangeByAnotherUserClearSetuidAndSetgid() {
        assumeSetpriv();
        boolean kernel = DaxfsMount.kernelFrontend();
        String[] ops = {"fallocate -l 8192", "fallocate -p -o 0 -l 4096", "fallocate -z -o 0 -l 4096"};
        for (int i = 0; i < ops.length; i++) {
            Path f = m.mnt.resolve("falloc" + i);
            shOk("head -c 16384 /dev/zero > " + q(f) + " && chmod 6666 " + q(f));
            shOk(as(1001, ops[i] + " " + f));
            assertEquals(kernel ? "666" : "2666", shOk("stat -c %a " + q(f)).strip(), ops[i] + ", not in the group");
            shOk("chmod 6676 " + q(f));
            shOk(as(1001, ops[i] + " " + f));
            assertEquals("676", shOk("stat -c %a " + q(f)).strip(), ops[i] + ", group-execute");
            shOk("chmod 6666 " + q(f) + " && chgrp 1001 " + q(f) + " && chmod 6666 " + q(f));
            shOk(as(1001, ops[i] + " " + f));
            assertEquals("2666", shOk("stat -c %a " + q(f)).strip(), ops[i] + ", in the group");
            shOk("chmod 6777 " + q(f) + " && " + ops[i] + " " + q(f));
            assertEquals("6777", shOk("stat -c %a " + q(f)).strip(), ops[i] + " by root");
        }
        Path w = m.mnt.resolve("written");
        shOk("echo x > " + q(w) + " && chmod 6666 " + q(w));
        shOk(as(1001, "echo more >> " + w));
        assertEquals(kernel ? "666" : "2666", shOk("stat -c %a " + q(w)).strip(), "a write, not in the group");
    }

    @Test
    void otherUsersAreAllowedAndDeniedByTheModeBits() {
        assumeSetpriv();
        Path priv = m.mnt.resolve("private");
        Path pub = m.mnt.resolve("public");
        shOk("mkdir " + q(priv) + " " + q(pub) + " && echo secret > " + q(priv) + "/f && echo open > "
                + q(pub) + "/f && chmod 700 " + q(priv) + " && chmod 755 " + q(pub));
        assertFalse(sh(as(1001, "cat " + priv + "/f")).ok(), "0700 directory of root: denied");
        assertEquals("open", shOk(as(1001, "cat " + pub + "/f")).strip(), "0755 directory: allowed to read");
        assertFalse(sh(as(1001, "echo no > " + pub + "/g")).ok(), "0755 directory of root: no create");
        Path own = m.mnt.resolve("own");
        shOk("mkdir " + q(own) + " && chown 1001:1001 " + q(own) + " && chmod 700 " + q(own));
        shOk(as(1001, "echo mine > " + own + "/f"));
        assertEquals("1001", shOk("stat -c %u " + q(own.resolve("f"))).strip(), "files belong to their creator");
        assertFalse(sh(as(1000, "ls " + own)).ok(), "another user cannot list it");
        assertTrue(sh("cat " + q(own.resolve("f"))).ok(), "root can");
    }
}
