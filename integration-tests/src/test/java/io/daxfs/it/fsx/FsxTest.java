package io.daxfs.it.fsx;

import io.daxfs.it.ItAccess;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * fsx on a real mount: random reads, writes, truncates, fallocate (default, KEEP_SIZE,
 * PUNCH_HOLE, ZERO_RANGE[|KEEP_SIZE]), mmap reads and writes from a second process, fsync and
 * reopen of one file, checked op by op against {@link FsxModel} (see {@link FsxRunner}); then
 * two runners on two more files at once; then umount and a clean fsck.
 *
 * <p>Each run takes a new random seed and prints it. Properties:
 * <ul>
 * <li>{@code -Ddaxfs.fsx.seed=N}: run seed N again (the parallel runners use N+1 and N+2);</li>
 * <li>{@code -Ddaxfs.fsx.ops=M}: ops in all (default 200,000, about 40 s on two
 * cores): 60% on one file, then 20% on each of two files in parallel. Soak profile:
 * {@code mvn -o -pl integration-tests test -Dtest=FsxTest -Ddaxfs.fsx.ops=1000000
 * -Djunit.jupiter.execution.timeout.default=1h} (about 4 minutes here; the timeout raises the
 * suite's 5-minute safety limit per test);</li>
 * <li>{@code -Ddaxfs.fsx.shrinkSeconds=S}: time bound of shrinking a failure (default 60);</li>
 * <li>{@code -Ddaxfs.fsx.replay=FILE}: instead of a random run, replay an op log written by a
 * failure (target/fsx-failure-SEED.txt) on a fresh mount.</li>
 * </ul>
 */
class FsxTest {
    static final long DEFAULT_OPS = 200_000;

    @Test
    void randomOpsAgreeWithTheModel() throws Exception {
        String replay = System.getProperty("daxfs.fsx.replay");
        long seed = Long.getLong("daxfs.fsx.seed", ThreadLocalRandom.current().nextLong() >>> 1);
        long ops = Long.getLong("daxfs.fsx.ops", DEFAULT_OPS);
        long shrinkSeconds = Long.getLong("daxfs.fsx.shrinkSeconds", 60);
        Path reportDir = Path.of("target").toAbsolutePath();
        try (ItAccess.Mount m = ItAccess.mount("256M")) {
            Path mnt = m.mountPoint();
            if (replay != null) {
                FsxRunner r = new FsxRunner(mnt, "fsx-replay", FsxRunner.DEFAULT_MAX_SIZE, FsxRunner.DEFAULT_CHECK_EVERY,
                        shrinkSeconds, reportDir, System.out);
                FsxRunner.Mismatch mm = r.replayLog(Path.of(replay));
                assertNull(mm, () -> "the replay of " + replay + " fails: " + mm.getMessage());
            } else {
                System.out.println("fsx seed " + seed + " (-Ddaxfs.fsx.seed=" + seed + " to replay), " + ops + " ops");
                long single = ops * 3 / 5;
                long each = (ops - single) / 2;
                FsxRunner.Outcome one = runner(mnt, "fsx-0", shrinkSeconds, reportDir).run(seed, single);
                if (!one.ok()) {
                    fail("fsx seed " + seed + " found a mismatch (report " + one.reportFile() + "):\n" + one.report());
                }
                ExecutorService pool = Executors.newFixedThreadPool(2);
                try {
                    List<Future<FsxRunner.Outcome>> both = new ArrayList<>();
                    for (int k = 1; k <= 2; k++) {
                        FsxRunner r = runner(mnt, "fsx-" + k, shrinkSeconds, reportDir);
                        long s = seed + k;
                        both.add(pool.submit(() -> r.run(s, Math.max(each, 1))));
                    }
                    for (Future<FsxRunner.Outcome> f : both) {
                        FsxRunner.Outcome o = f.get();
                        if (!o.ok()) {
                            fail("fsx seed " + o.seed() + " (parallel runner of seed " + seed + ") found a mismatch (report "
                                    + o.reportFile() + "):\n" + o.report());
                        }
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
            m.assertNoDaemonErrors();
            m.umount();
            m.fsckClean();
        }
    }

    private static FsxRunner runner(Path mnt, String name, long shrinkSeconds, Path reportDir) {
        return new FsxRunner(mnt, name, FsxRunner.DEFAULT_MAX_SIZE, FsxRunner.DEFAULT_CHECK_EVERY, shrinkSeconds,
                reportDir, System.out);
    }
}
