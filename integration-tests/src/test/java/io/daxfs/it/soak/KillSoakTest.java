package io.daxfs.it.soak;

import io.daxfs.it.ItAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * kill -9 of the daemon at random moments of a mixed workload through a real mount, then
 * fusermount -u, fsck (must be clean), mount, and every durable result checked against the
 * workers' models, with "either state" for the ops in flight (see {@link KillSoak}).
 *
 * <p>Cycles: 50 with the kernel front end (the default execution); 15 with libfuse (the
 * second execution: the same fs-core recovers, only the front end differs, and a cycle costs
 * the same 4 to 6 s, so 50 more would add four minutes to every build) and when
 * {@code DAXFS_TEST_LIGHT=1}. Properties:
 * <ul>
 * <li>{@code -Ddaxfs.soak.seed=N}: run seed N again (each run prints its seed);</li>
 * <li>{@code -Ddaxfs.soak.cycles=N}: kill cycles;</li>
 * <li>{@code -Ddaxfs.soak.workers=N}: workload processes, each in its own directory (default 2);</li>
 * <li>{@code -Ddaxfs.soak.ops=N}: ops planned per worker and cycle (default 2000: more than a worker
 * completes before the kill; if it runs out, the kill finds it idle);</li>
 * <li>{@code -Ddaxfs.soak.maxKillDelayMs=N}: the latest kill after the workers start (default 1200);</li>
 * <li>{@code -Ddaxfs.soak.cycleLimitSeconds=N}: the safety limit of one cycle (default 180).</li>
 * </ul>
 * Soak profile: {@code -Ddaxfs.soak.cycles=1000} or more (each cycle has its own time limit; the
 * test's is 24 hours); docs/reliability.md, "kill -9 soak", has the command and a recorded run.
 */
class KillSoakTest {
    static final int CYCLES = 50;
    static final int CYCLES_LIBFUSE_OR_LIGHT = 15;

    @Test
    @Timeout(value = 24, unit = TimeUnit.HOURS) // each cycle has its own limit (cycleLimitSeconds)
    void killNineDuringAMixedWorkloadLosesNothingDurable() throws Exception {
        KillSoak.Config config = new KillSoak.Config(
                Long.getLong("daxfs.soak.seed", ThreadLocalRandom.current().nextLong() >>> 1),
                Integer.getInteger("daxfs.soak.cycles", defaultCycles()),
                Integer.getInteger("daxfs.soak.workers", 2),
                Integer.getInteger("daxfs.soak.ops", 2000),
                Integer.getInteger("daxfs.soak.maxKillDelayMs", 1200),
                Long.getLong("daxfs.soak.cycleLimitSeconds", 180),
                "512M",
                Path.of("target").toAbsolutePath());
        new KillSoak(config, System.out).run();
    }

    private static int defaultCycles() {
        boolean light = "1".equals(System.getenv("DAXFS_TEST_LIGHT"));
        return light || !ItAccess.frontend().equals("kernel") ? CYCLES_LIBFUSE_OR_LIGHT : CYCLES;
    }
}
