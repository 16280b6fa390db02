package io.daxfs.core;

import io.daxfs.core.base.DirEntry;
import io.daxfs.core.base.Errno;
import io.daxfs.core.base.FileMode;
import io.daxfs.core.base.FormatOptions;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.NamespaceTest.assertErrno;
import static io.daxfs.core.TestDevice.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One directory with 100,000 entries: functional behaviour at scale (nothing is timed). */
class LargeDirectoryTest {
    private static final int N = 100_000;

    private static String name(int i) {
        return "entry-" + i;
    }

    @Test
    void hundredThousandEntries() {
        try (TestDevice dev = TestDevice.create(64 * MIB, new FormatOptions(N + 1024, "", 0, 0))) {
            DaxFileSystem fs = dev.fs();
            long dir = fs.mkdir(ROOT, "big", 0755, 0, 0);
            long[] inos = new long[N];
            for (int i = 0; i < N; i++) {
                inos[i] = fs.create(dir, name(i), 0644, 0, 0);
            }
            for (int i = 0; i < N; i++) {
                assertEquals(inos[i], fs.lookup(dir, name(i)), name(i));
            }
            assertReaddir(fs.readdir(dir), dir, 0, 1);
            assertEquals(FileMode.S_IFDIR | 0755, fs.getattr(dir).mode());
            assertEquals(N + 2L, fs.statfs().totalInodes() - fs.statfs().freeInodes() + 0L,
                    "root, the directory and N files");

            fs = dev.remount();
            dir = fs.resolve("/big");
            for (int i = 0; i < N; i++) {
                assertEquals(inos[i], fs.lookup(dir, name(i)), name(i) + " after remount");
            }
            assertReaddir(fs.readdir(dir), dir, 0, 1);

            // Unlink every other entry.
            for (int i = 0; i < N; i += 2) {
                fs.unlink(dir, name(i));
            }
            fs = dev.remount();
            dir = fs.resolve("/big");
            for (int i = 0; i < N; i++) {
                if (i % 2 == 0) {
                    long d = dir;
                    int k = i;
                    assertErrno(Errno.ENOENT, () -> dev.fs().lookup(d, name(k)));
                } else {
                    assertEquals(inos[i], fs.lookup(dir, name(i)), name(i) + " after unlinking the others");
                }
            }
            assertReaddir(fs.readdir(dir), dir, 1, 2);
            FsSnapshot.assertSpaceAccounted(fs);

            // The freed room is reused: new names do not grow the directory.
            long blocks = fs.getattr(dir).blocks512();
            for (int i = 0; i < N; i += 2) {
                fs.create(dir, "x" + i, 0644, 0, 0);
            }
            assertEquals(blocks, fs.getattr(dir).blocks512(), "freed records were reused");
            assertEquals(N + 2, fs.readdir(dir).size());
        }
    }

    /** The listing holds ".", "..", and exactly the names from {@code first} in steps of {@code step}. */
    private static void assertReaddir(List<DirEntry> list, long dir, int first, int step) {
        assertEquals(".", list.get(0).name());
        assertEquals(dir, list.get(0).ino());
        assertEquals("..", list.get(1).name());
        assertEquals(ROOT, list.get(1).ino());
        Set<String> names = new HashSet<>();
        for (DirEntry e : list.subList(2, list.size())) {
            assertTrue(names.add(e.name()), "listed twice: " + e.name());
        }
        int expected = 0;
        for (int i = first; i < N; i += step) {
            assertTrue(names.contains(name(i)), "missing from readdir: " + name(i));
            expected++;
        }
        assertEquals(expected, names.size());
        assertEquals(expected + 2, list.size());
    }
}
