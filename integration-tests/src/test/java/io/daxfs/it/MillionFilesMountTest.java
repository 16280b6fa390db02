package io.daxfs.it;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import org.junit.jupiter.api.Test;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.it.Daxfs.q;
import static io.daxfs.it.Daxfs.shOk;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * 1,000,000 files through a real mount. Creating them through FUSE takes minutes, so the image
 * is made with {@code daxfs mkfs --inodes} and filled in-process (fs-core, as
 * {@code MillionFilesTest} does), then mounted: {@code find} must list every file, and
 * {@code df} must count them as used inodes. Prints how long the listing takes (readdir and a lookup of
 * every entry through FUSE).
 */
class MillionFilesMountTest {
    private static final int DIRS = 1_000;
    private static final int FILES_PER_DIR = 900;
    private static final int BIG = 100_000;
    private static final int FILES = DIRS * FILES_PER_DIR + BIG;
    private static final long INODES = 1_001_024;

    @Test
    void findListsAMillionFiles() throws Exception {
        try (DaxfsMount m = DaxfsMount.empty()) {
            m.mkfs("1G", "--inodes", Long.toString(INODES));
            long t0 = System.nanoTime();
            try (OpenedDevice device = DeviceOpener.open(m.image, DeviceOptions.defaults())) {
                DaxFileSystem fs = DaxFileSystem.mount(device.region());
                for (int d = 0; d < DIRS; d++) {
                    long dir = fs.mkdir(ROOT, String.format("d%03d", d), 0755, 0, 0);
                    for (int f = 0; f < FILES_PER_DIR; f++) {
                        fs.create(dir, String.format("f%06d", f), 0644, 0, 0);
                    }
                }
                long big = fs.mkdir(ROOT, "big", 0755, 0, 0);
                for (int f = 0; f < BIG; f++) {
                    fs.create(big, String.format("f%06d", f), 0644, 0, 0);
                }
                fs.close();
            }
            long t1 = System.nanoTime();
            m.mount();
            String inodes = shOk("df --output=itotal,iused " + q(m.mnt)).lines().skip(1).findFirst().orElseThrow();
            assertEquals(INODES + " " + (1 + DIRS + 1 + FILES), inodes.strip().replaceAll(" +", " "), "df --output=itotal,iused");
            long t2 = System.nanoTime();
            String count = shOk("find " + q(m.mnt) + " -type f | wc -l").strip();
            long t3 = System.nanoTime();
            assertEquals(Integer.toString(FILES), count, "find MOUNT -type f | wc -l");
            System.out.printf("MillionFilesMountTest: filled in-process in %.1f s; find of %d files through FUSE %.1f s%n",
                    (t1 - t0) / 1e9, FILES, (t3 - t2) / 1e9);
            m.umount();
            m.fsckClean();
        }
    }
}
