package io.daxfs.core;

import io.daxfs.core.base.DirEntry;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.daxfs.core.DaxFileSystem.ROOT;
import static io.daxfs.core.TestDevice.MIB;
import static io.daxfs.core.TestDevice.pattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Several threads on one mounted file system: writers of disjoint regions of one file, readers
 * of the same file, and threads creating, writing, renaming and unlinking in one directory.
 * Afterwards every byte and every name is as the threads left them and statfs adds up. Not a
 * timing test: the only time limit is a generous deadlock guard.
 */
class ConcurrencyTest {
    private static final int WRITERS = 4;
    private static final int PASSES = 3;
    private static final int REGION = (int) MIB;
    /** Deadlock guard only: the work takes a small fraction of this. */
    private static final long GUARD_MINUTES = 10;

    /** Pass {@code p} of writer {@code w} writes this byte at {@code off}. */
    private static byte value(int w, int p, long off) {
        return pattern(1000L * w + p + 1, off);
    }

    @Test
    void writersReadersAndDirectoryChurn() throws Exception {
        long seed = TestDevice.seed("ConcurrencyTest");
        try (TestDevice dev = TestDevice.create(64 * MIB)) {
            final DaxFileSystem fs = dev.fs();
            long file = fs.create(ROOT, "shared", 0644, 0, 0);
            long churn = fs.mkdir(ROOT, "churn", 0755, 0, 0);
            AtomicBoolean writing = new AtomicBoolean(true);
            CountDownLatch start = new CountDownLatch(1);
            List<Callable<Object>> tasks = new ArrayList<>();
            int churners = 3;
            List<Set<String>> churnNames = new ArrayList<>();

            for (int w = 0; w < WRITERS; w++) {
                int id = w;
                tasks.add(() -> {
                    Random rnd = new Random(seed + id);
                    start.await();
                    long base = (long) id * REGION;
                    for (int p = 0; p < PASSES; p++) {
                        // The region in chunks of random size, written in random order.
                        List<long[]> chunks = new ArrayList<>();
                        for (long off = 0; off < REGION; ) {
                            int len = (int) Math.min(REGION - off, 1 + rnd.nextInt(3 * 4096));
                            chunks.add(new long[] {off, len});
                            off += len;
                        }
                        Collections.shuffle(chunks, rnd);
                        for (long[] c : chunks) {
                            byte[] data = new byte[(int) c[1]];
                            for (int i = 0; i < data.length; i++) {
                                data[i] = value(id, p, base + c[0] + i);
                            }
                            assertEquals(data.length, fs.write(file, base + c[0], MemorySegment.ofArray(data), 0, data.length));
                        }
                    }
                    return null;
                });
            }
            for (int r = 0; r < 2; r++) {
                int id = r;
                tasks.add(() -> {
                    Random rnd = new Random(seed ^ (77 + id));
                    start.await();
                    byte[] buf = new byte[64 * 1024];
                    int reads = 0;
                    while (writing.get() || reads < 50) {
                        long off = rnd.nextInt(WRITERS * REGION);
                        int len = 1 + rnd.nextInt(buf.length);
                        int n = fs.read(file, off, MemorySegment.ofArray(buf), 0, len);
                        assertTrue(n >= 0 && n <= len);
                        for (int i = 0; i < n; i++) {
                            long at = off + i;
                            int w = (int) (at / REGION);
                            boolean ok = buf[i] == 0;
                            for (int p = 0; p < PASSES && !ok; p++) {
                                ok = buf[i] == value(w, p, at);
                            }
                            if (!ok) {
                                fail("reader " + id + " saw byte " + buf[i] + " at " + at
                                        + ", which no writer ever wrote there (seed " + seed + ")");
                            }
                        }
                        reads++;
                    }
                    return null;
                });
            }
            for (int t = 0; t < churners; t++) {
                int id = t;
                Set<String> mine = new HashSet<>();
                churnNames.add(mine);
                tasks.add(() -> {
                    Random rnd = new Random(seed ^ (991 + id));
                    start.await();
                    for (int i = 0; i < 1500; i++) {
                        String name = "t" + id + "-" + rnd.nextInt(200);
                        int op = rnd.nextInt(10);
                        if (op < 5 && !mine.contains(name)) {
                            long ino = fs.create(churn, name, 0644, 0, 0);
                            if (rnd.nextBoolean()) {
                                byte[] data = pattern(name.hashCode(), 0, 1 + rnd.nextInt(10_000));
                                fs.write(ino, 0, MemorySegment.ofArray(data), 0, data.length);
                            }
                            mine.add(name);
                        } else if (op < 8 && mine.contains(name)) {
                            fs.unlink(churn, name);
                            mine.remove(name);
                        } else if (op < 9 && mine.contains(name)) {
                            String to = "t" + id + "-" + rnd.nextInt(200);
                            fs.rename(churn, name, churn, to); // may replace one of my own names
                            mine.remove(name);
                            mine.add(to);
                        } else {
                            List<DirEntry> list = fs.readdir(churn);
                            assertEquals(".", list.get(0).name());
                            assertEquals("..", list.get(1).name());
                            Set<String> seen = new HashSet<>();
                            for (DirEntry e : list) {
                                assertTrue(seen.add(e.name()), "readdir listed " + e.name() + " twice");
                            }
                            for (String n : mine) {
                                assertTrue(seen.contains(n), "my own name " + n + " missing from readdir");
                            }
                        }
                    }
                    return null;
                });
            }

            ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
            try {
                List<Future<Object>> futures = new ArrayList<>();
                for (Callable<Object> t : tasks) {
                    futures.add(pool.submit(t));
                }
                start.countDown();
                for (int i = 0; i < WRITERS; i++) {
                    futures.get(i).get(GUARD_MINUTES, TimeUnit.MINUTES);
                }
                writing.set(false);
                for (Future<Object> f : futures) {
                    f.get(GUARD_MINUTES, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(GUARD_MINUTES, TimeUnit.MINUTES), "threads still running");
            }

            verify(fs, file, churn, churnNames, seed);
            DaxFileSystem again = dev.remount();
            verify(again, again.resolve("/shared"), again.resolve("/churn"), churnNames, seed);
            FsckSupport.assertClean(dev.region().readView(), "after the concurrent run");
        }
    }

    private static void verify(DaxFileSystem fs, long file, long churn, List<Set<String>> churnNames, long seed) {
        assertEquals((long) WRITERS * REGION, fs.getattr(file).size());
        byte[] all = TestDevice.readAll(fs, file);
        for (int i = 0; i < all.length; i++) {
            if (all[i] != value(i / REGION, PASSES - 1, i)) {
                fail("byte " + i + " is not the last pass's value (seed " + seed + ")");
            }
        }
        assertEquals((long) WRITERS * REGION / 4096 * 8, fs.getattr(file).blocks512()
                - overflowBlocks512(fs, file), "the file owns exactly its data blocks");
        TreeSet<String> expected = new TreeSet<>();
        churnNames.forEach(expected::addAll);
        TreeSet<String> listed = new TreeSet<>();
        for (DirEntry e : fs.readdir(churn)) {
            if (!e.name().equals(".") && !e.name().equals("..")) {
                listed.add(e.name());
            }
        }
        assertEquals(expected, listed, "seed " + seed);
        FsSnapshot.assertSpaceAccounted(fs);
    }

    /** Extent-overflow blocks are counted in the inode's blocks too; a 4 MiB file may have some. */
    private static long overflowBlocks512(DaxFileSystem fs, long file) {
        long blocks = fs.getattr(file).blocks512() / 8;
        long data = (long) WRITERS * REGION / 4096;
        assertTrue(blocks >= data && blocks - data < 64, "blocks " + blocks + " for " + data + " data blocks");
        return (blocks - data) * 8;
    }
}
