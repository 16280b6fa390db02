package io.daxfs.core;

import io.daxfs.core.base.FormatOptions;
import io.daxfs.core.base.MountSettings;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;

import org.junit.jupiter.api.Test;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The measurement behind check=auto (docs/reliability.md, "What a mount checks"): how long
 * fsck's whole check and a mount with check=quick and check=full take on a 1 GiB image with
 * 5,000 files and on one with 1,000,000. Runs only with -Ddaxfs.measure=true:
 * {@code mvn -B -o test -pl devdax,fs-core -Dtest=CheckTimeMeasurement -Ddaxfs.measure=true}.
 */
class CheckTimeMeasurement {
    @Test
    void fiveThousandFiles() {
        assumeTrue(Boolean.getBoolean("daxfs.measure"));
        try (TestDevice dev = TestDevice.create(1024 * MIB)) {
            DaxFileSystem fs = dev.fs();
            byte[] data = new byte[20_000];
            for (int d = 0; d < 50; d++) {
                long dir = fs.mkdir(ROOT, "d" + d, 0755, 0, 0);
                for (int f = 0; f < 100; f++) {
                    long ino = fs.create(dir, "f" + f, 0644, 0, 0);
                    TestDevice.write(fs, ino, 0, data);
                }
            }
            measure(dev, "5,000 files of 20 KB in 50 directories, 1 GiB");
        }
    }

    @Test
    void aMillionFiles() {
        assumeTrue(Boolean.getBoolean("daxfs.measure"));
        try (TestDevice dev = TestDevice.create(1024 * MIB, new FormatOptions(MillionFilesTest.INODES, "", 0, 0))) {
            DaxFileSystem fs = dev.fs();
            for (int d = 0; d < MillionFilesTest.DIRS; d++) {
                long dir = fs.mkdir(ROOT, String.format("d%03d", d), 0755, 0, 0);
                for (int f = 0; f < MillionFilesTest.FILES_PER_DIR; f++) {
                    fs.create(dir, String.format("f%06d", f), 0644, 0, 0);
                }
            }
            long big = fs.mkdir(ROOT, "big", 0755, 0, 0);
            for (int f = 0; f < MillionFilesTest.BIG; f++) {
                fs.create(big, String.format("f%06d", f), 0644, 0, 0);
            }
            measure(dev, "1,000,000 empty files in 1,001 directories, 1 GiB");
        }
    }

    private static void measure(TestDevice dev, String what) {
        dev.unmount();
        long[] check = new long[3];
        long[] quick = new long[3];
        long[] full = new long[3];
        for (int i = 0; i < 3; i++) {
            dev.mount(MountSettings.defaults().withCheck(MountSettings.Check.QUICK));
            long t0 = System.nanoTime();
            FsckReport r = FsChecker.check(dev.region().readView());
            check[i] = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(r.clean(), r.render());
            dev.unmount();
            t0 = System.nanoTime();
            dev.mount(MountSettings.defaults().withCheck(MountSettings.Check.QUICK));
            quick[i] = (System.nanoTime() - t0) / 1_000_000;
            dev.unmount();
            t0 = System.nanoTime();
            dev.mount(MountSettings.defaults().withCheck(MountSettings.Check.FULL));
            full[i] = (System.nanoTime() - t0) / 1_000_000;
            dev.unmount();
        }
        System.out.printf("%s: fsck %s ms, mount check=quick %s ms, check=full %s ms (3 runs)%n", what,
                java.util.Arrays.toString(check), java.util.Arrays.toString(quick), java.util.Arrays.toString(full));
        dev.mount();
    }
}
