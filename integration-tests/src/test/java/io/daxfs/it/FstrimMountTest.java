package io.daxfs.it;

import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.sh;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * fstrim(8) through a real mount (FITRIM over FUSE_IOCTL): it reports the free bytes it
 * released, the image file's allocated size shrinks by the small files removed before (whose
 * blocks kept their memory until a batch release), the files left read back whole, and the
 * arguments ext4 refuses are refused (xfstests generic/288). Only the kernel front ends carry
 * FUSE_IOCTL (docs/operations.md, "fstrim").
 */
@MountedDaxfs(size = "64M", fsck = true)
class FstrimMountTest {
    private static final Pattern TRIMMED = Pattern.compile("(\\d+) bytes\\)? trimmed");

    private DaxfsMount m;

    private long imageBytesInUse() {
        return Long.parseLong(shOk("stat -c %b " + q(m.image)).strip()) * 512;
    }

    @Test
    void fstrimReleasesTheFreeSpaceOfTheImageAndReportsIt() {
        assumeTrue(!DaxfsMount.FRONTEND.equals("libfuse"), "fstrim needs FUSE_IOCTL: the kernel front ends");
        shOk("cd " + q(m.mnt) + " && mkdir s && for i in $(seq 1 300); do head -c 6000 /dev/urandom > s/$i; done"
                + " && sha256sum s/*[13579] > ../kept.sha && rm s/*[02468]");
        long before = imageBytesInUse();
        String out = shOk("fstrim -v " + q(m.mnt));
        Matcher t = TRIMMED.matcher(out);
        assertTrue(t.find(), out);
        long trimmed = Long.parseLong(t.group(1));
        String[] statfs = shOk("stat -f -c '%f %S' " + q(m.mnt)).strip().split(" ");
        long free = Long.parseLong(statfs[0]) * Long.parseLong(statfs[1]);
        // df counts blocks still busy (freed, their commit not yet durable) as free; fstrim leaves them
        assertTrue(trimmed <= free && trimmed > free * 9 / 10, "every free byte (" + free + "): " + out);
        long after = imageBytesInUse();
        assertTrue(after <= before - 150 * 8192, "150 removed files of two blocks gave their memory back: "
                + before + " -> " + after);
        shOk("cd " + q(m.mnt) + " && sha256sum -c --quiet ../kept.sha");

        Daxfs.Result zero = sh("fstrim -o0 -l0 " + q(m.mnt));
        assertTrue(zero.exit() != 0 && zero.err().contains("Invalid argument"), "length 0: " + zero);
        Daxfs.Result small = sh("fstrim -o0 -l100 " + q(m.mnt));
        assertTrue(small.exit() != 0 && small.err().contains("Invalid argument"), "below a block: " + small);
    }
}
