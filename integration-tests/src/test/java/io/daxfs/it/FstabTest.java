package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.daxfs.it.Daxfs.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An fstab line works: {@code TARGET DIR fuse.daxfs defaults,allow_other 0 0}, then
 * {@code mount -a} and {@code mount DIR}, through mount(8) and the helper. The line goes into a
 * private fstab ({@code mount -T FILE}), never /etc/fstab; mount(8) runs in a mount namespace
 * of its own ({@code unshare --mount}) in which this checkout's helper is bound over
 * /sbin/mount.fuse.daxfs, so another checkout's installed helper is neither used nor touched. If
 * no helper is installed at all, a symlink to this checkout's is made for the test and removed.
 */
class FstabTest {
    private static final Path INSTALLED = Path.of("/sbin/mount.fuse.daxfs");
    private static final Pattern PID = Pattern.compile("daemon pid (\\d+)");

    @Test
    void anFstabLineMountsWithMountAllAndByDirectory() throws IOException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "needs unshare(1)");
        try (DaxfsMount m = DaxfsMount.empty()) {
            m.mkfs("64M");
            Path helper = Path.of(System.getProperty("daxfs.root", "..")).resolve("scripts/mount.fuse.daxfs")
                    .toAbsolutePath().normalize();
            Path fstab = m.dir.resolve("fstab");
            Files.writeString(fstab, "# private fstab of FstabTest\n" + m.image + " " + m.mnt
                    + " fuse.daxfs defaults,allow_other 0 0\n");
            boolean madeLink = false;
            if (!Files.exists(INSTALLED, LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(INSTALLED, helper);
                madeLink = true;
            }
            String script = String.join("\n",
                    "set -eu",
                    "mount --make-rprivate / 2>/dev/null || true",
                    "mount --bind " + q(helper) + " " + q(INSTALLED),
                    "export DAXFS_NO_BUILD=1",
                    "trap 'umount -l " + q(m.mnt) + " 2>/dev/null || true' EXIT",
                    "cd " + q(m.dir),
                    "mount -T ./fstab -a",
                    // the helper is silent on success: find the daemon it started by its command line
                    "echo \"daemon pid $(pgrep -n -f -- " + q("DaemonMain " + m.image + " ") + ")\"",
                    "echo \"type: $(findmnt -n -o FSTYPE " + q(m.mnt) + ")\"",
                    "echo \"options: $(findmnt -n -o OPTIONS " + q(m.mnt) + ")\"",
                    "echo data > " + q(m.mnt.resolve("f")),
                    "umount " + q(m.mnt),
                    "echo \"after umount: $(findmnt -n -o FSTYPE " + q(m.mnt) + " || true)\"",
                    "mount -T ./fstab " + q(m.mnt),
                    "echo \"daemon pid $(pgrep -n -f -- " + q("DaemonMain " + m.image + " ") + ")\"",
                    "echo \"content: $(cat " + q(m.mnt.resolve("f")) + ")\"",
                    "umount " + q(m.mnt));
            Daxfs.Result r;
            List<Long> daemons = new ArrayList<>();
            try {
                r = Daxfs.exec(List.of("/usr/bin/unshare", "--mount", "/bin/bash", "-c", script));
            } finally {
                if (madeLink) {
                    Files.deleteIfExists(INSTALLED);
                }
            }
            Matcher pids = PID.matcher(r.out());
            while (pids.find()) {
                daemons.add(Long.parseLong(pids.group(1)));
            }
            for (long p : daemons) { // they exit after their umount; killed if one did not
                ProcessHandle.of(p).ifPresent(h -> {
                    try {
                        h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (Exception e) {
                        h.destroyForcibly();
                    }
                });
            }
            assertEquals(0, r.exit(), r.toString());
            assertEquals(2, daemons.size(), "mount -a and mount DIR each started a daemon: " + r);
            assertTrue(r.out().contains("type: fuse.daxfs\n"), r.toString());
            assertTrue(r.out().matches("(?s).*options: [^\\n]*\\ballow_other\\b.*"), r.toString());
            assertTrue(r.out().contains("after umount: \n"), r.toString());
            assertTrue(r.out().contains("content: data\n"), r.toString());
            m.fsckClean();
        }
    }
}
