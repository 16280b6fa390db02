package io.daxfs.it.stress;

import io.daxfs.it.ItAccess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several processes do overlapping reads, writes, truncates, hole punches and zero ranges on
 * shared files through a real mount for a bounded time; then every byte each process owns is
 * checked against its model, fsck must be clean, the content must survive a remount, and
 * after deleting everything statfs shows the whole device free and the backing image has
 * given its memory back. Length: -Ddaxfs.stress.seconds (default 20).
 */
class MountStressTest {
    static final int WORKERS = 4;
    static final int STRIPE = 2 << 20;
    static final int SHARED_FILES = 3;

    @Test
    void overlappingIoTruncatesAndPunchesFromSeveralProcesses() throws Exception {
        int seconds = Integer.getInteger("daxfs.stress.seconds", 20);
        long seed = Long.getLong("daxfs.stress.seed", System.nanoTime());
        System.out.println("MountStressTest seed " + seed + " (-Ddaxfs.stress.seed to replay), " + seconds + " s");
        try (ItAccess.Mount m = ItAccess.mount("512M")) {
            Path mnt = m.mountPoint();
            Path models = Files.createDirectories(m.dir().resolve("models"));
            List<String> files = new ArrayList<>();
            for (int i = 0; i < SHARED_FILES; i++) {
                files.add(mnt.resolve("shared-" + i).toString());
            }
            files.add(mnt.resolve("chaos").toString());
            for (String f : files) {
                ItAccess.shOk("truncate -s " + (long) WORKERS * STRIPE + " " + f);
            }
            List<Process> procs = new ArrayList<>();
            for (int id = 0; id < WORKERS; id++) {
                procs.add(ItAccess.startJava(StressWorker.class, worker("run", id, seconds, seed, models, files)));
            }
            for (int id = 0; id < WORKERS; id++) {
                ItAccess.Result r = ItAccess.finish(procs.get(id));
                assertEquals(0, r.exit(), "worker " + id + " failed:\n" + r);
                System.out.print(r.out());
                assertTrue(r.out().matches("(?s).*after [1-9][0-9]{2,} operations.*"), "worker " + id + " did too little: " + r.out());
            }
            m.assertNoDaemonErrors();
            m.umount();
            m.fsckClean();
            m.mount();
            for (int id = 0; id < WORKERS; id++) {
                ItAccess.Result r = ItAccess.runJava(StressWorker.class, worker("verify", id, 0, 0, models, files));
                assertEquals(0, r.exit(), "after remount, worker " + id + "'s bytes differ:\n" + r);
            }

            long usedBefore = m.imageAllocatedBytes();
            ItAccess.shOk("rm -f " + mnt + "/*");
            String[] st = ItAccess.shOk("stat -f -c '%b %f' " + mnt).trim().split(" ");
            assertEquals(st[0], st[1], "after deleting everything statfs shows the whole device free");
            m.umount();
            m.fsckClean();
            long usedAfter = m.imageAllocatedBytes();
            assertTrue(usedAfter < usedBefore / 2 && usedAfter < 16L << 20,
                    "the image gave freed memory back: " + usedBefore + " -> " + usedAfter + " bytes allocated");
        }
    }

    private static List<String> worker(String mode, int id, int seconds, long seed, Path models, List<String> files) {
        List<String> a = new ArrayList<>(List.of(mode, Integer.toString(id), Integer.toString(WORKERS),
                Integer.toString(STRIPE), Integer.toString(seconds), Long.toString(seed), models.toString()));
        a.addAll(files);
        return a;
    }
}
