package io.daxfs.core;

import io.daxfs.core.base.Attributes;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FsException;
import io.daxfs.core.base.Timestamp;
import io.daxfs.core.format.Geometry;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.TreeMap;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static io.daxfs.core.TestDevice.readAll;
import static io.daxfs.core.TestDevice.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Everything survives closing and reopening the mapping, byte for byte. */
class PersistenceTest {

    @Test
    void mixOfOperationsSurvivesRemount() {
        try (TestDevice dev = TestDevice.create(32 * MIB)) {
            DaxFileSystem fs = dev.fs();
            long docs = fs.mkdir(ROOT, "docs", 0750, 1000, 1000);
            long deep = fs.mkdir(fs.mkdir(docs, "a", 0700, 1, 2), "b", 0711, 3, 4);
            long f1 = fs.create(docs, "report.txt", 0640, 1000, 1000);
            write(fs, f1, 0, "hello, persistent world".getBytes(StandardCharsets.UTF_8));
            long f2 = fs.create(deep, "blob", 0600, 0, 0);
            write(fs, f2, 0, pattern(21, 0, 3 * Geometry.BLOCK_SIZE + 11));
            write(fs, f2, 2 * MIB, pattern(22, 0, 999)); // sparse
            long f3 = fs.create(ROOT, "shrunk", 0644, 0, 0);
            write(fs, f3, 0, pattern(23, 0, 50_000));
            fs.truncate(f3, 12_345);
            long grown = fs.create(ROOT, "grown", 0644, 0, 0);
            fs.truncate(grown, 77_777);
            fs.link(f1, ROOT, "report-link");
            fs.symlink(docs, "to-blob", "a/b/blob", 5, 6);
            fs.mknod(ROOT, "pipe", FileMode.S_IFIFO | 0600, 0, 0, 0);
            fs.mknod(ROOT, "null", FileMode.S_IFCHR | 0666, (1L << 8) | 3, 0, 0);
            long gone = fs.create(ROOT, "gone", 0644, 0, 0);
            write(fs, gone, 0, new byte[10_000]);
            fs.unlink(ROOT, "gone");
            long moved = fs.create(ROOT, "to-move", 0644, 0, 0);
            fs.rename(ROOT, "to-move", deep, "moved");
            fs.chmod(moved, 04755);
            fs.chown(moved, 42, 43);
            fs.chown(f3, -1, 99);
            fs.setTimes(f1, new Timestamp(1_600_000_000L, 123_456_789), new Timestamp(1_500_000_000L, 987_654_321), false);
            fs.setTimes(docs, new Timestamp(-5, 1), new Timestamp(0, 999_999_999), false);
            fs.setTimes(f3, null, new Timestamp(1_234_567_890L, 1), false);
            Attributes f1Attrs = fs.getattr(f1);

            TreeMap<String, String> before = FsSnapshot.of(fs, true);
            byte[] f2Content = readAll(fs, f2);
            var stats = fs.statfs();

            fs = dev.remount();
            assertEquals(before, FsSnapshot.of(fs, true));
            assertEquals(stats, fs.statfs());
            assertArrayEquals(f2Content, readAll(fs, fs.resolve("/docs/a/b/blob")));
            assertArrayEquals("hello, persistent world".getBytes(StandardCharsets.UTF_8),
                    readAll(fs, fs.resolve("/report-link")));
            assertEquals(f1Attrs, fs.getattr(f1), "all attributes, times to the nanosecond");
            Attributes a = fs.getattr(f1);
            assertEquals(1_600_000_000L, a.atimeSec());
            assertEquals(123_456_789, a.atimeNsec());
            assertEquals(1_500_000_000L, a.mtimeSec());
            assertEquals(987_654_321, a.mtimeNsec());
            assertEquals(2, a.nlink());
            Attributes d = fs.getattr(docs);
            assertEquals(-5, d.atimeSec());
            assertEquals(1, d.atimeNsec());
            assertEquals(0, d.mtimeSec());
            assertEquals(999_999_999, d.mtimeNsec());
            assertEquals(1_234_567_890L, fs.getattr(f3).mtimeSec());
            assertEquals(FileMode.S_IFREG | 04755, fs.getattr(moved).mode());
            assertEquals(42, fs.getattr(moved).uid());
            assertEquals(99, fs.getattr(f3).gid());
            assertEquals(0, fs.getattr(f3).uid());
            assertEquals(12_345, fs.getattr(f3).size());
            assertArrayEquals(pattern(23, 0, 12_345), readAll(fs, f3));
            assertArrayEquals(new byte[77_777], readAll(fs, grown));
            assertEquals("a/b/blob", fs.readlink(fs.resolve("/docs/to-blob")));
            assertEquals((1L << 8) | 3, fs.getattr(fs.resolve("/null")).rdev());
            assertEquals(3, fs.getattr(docs).nlink());
            FsSnapshot.assertSpaceAccounted(fs);

            // And again after further changes on the remounted instance.
            fs.unlink(ROOT, "report-link");
            write(fs, f1, 5, "!".getBytes(StandardCharsets.UTF_8));
            fs.fsync(f1);
            before = FsSnapshot.of(fs, true);
            fs = dev.remount();
            assertEquals(before, FsSnapshot.of(fs, true));
            assertEquals("hello! persistent world", new String(readAll(fs, f1), StandardCharsets.UTF_8));
        }
    }

    @Test
    void randomTreeSurvivesRepeatedRemounts() {
        long seed = TestDevice.seed("PersistenceTest.randomTreeSurvivesRepeatedRemounts");
        Random rnd = new Random(seed);
        try (TestDevice dev = TestDevice.create(32 * MIB)) {
            DaxFileSystem fs = dev.fs();
            java.util.List<Long> dirs = new java.util.ArrayList<>(java.util.List.of(ROOT));
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < 200; i++) {
                    long dir = dirs.get(rnd.nextInt(dirs.size()));
                    String name = "n" + rnd.nextInt(60);
                    try {
                        switch (rnd.nextInt(6)) {
                            case 0 -> dirs.add(fs.mkdir(dir, name, 0755, 0, 0));
                            case 1, 2 -> {
                                long f = fs.create(dir, name, 0644, 0, 0);
                                write(fs, f, rnd.nextInt(20_000), pattern(rnd.nextLong(), 0, rnd.nextInt(20_000)));
                            }
                            case 3 -> fs.unlink(dir, name);
                            case 4 -> fs.rename(dir, name, dirs.get(rnd.nextInt(dirs.size())), "r" + rnd.nextInt(60));
                            default -> fs.rmdir(dir, name);
                        }
                    } catch (FsException expected) {
                        // EEXIST, ENOENT, EISDIR, ENOTEMPTY, EINVAL...: fine, nothing changed
                    }
                }
                DaxFileSystem cur = fs;
                dirs.removeIf(ino -> {
                    try {
                        return !cur.getattr(ino).isDirectory();
                    } catch (FsException e) {
                        return true;
                    }
                });
                var before = FsSnapshot.of(fs, true);
                var stats = fs.statfs();
                FsSnapshot.assertSpaceAccounted(fs);
                fs = dev.remount();
                assertEquals(before, FsSnapshot.of(fs, true), "round " + round + ", seed " + seed);
                assertEquals(stats, fs.statfs());
            }
        }
    }
}
