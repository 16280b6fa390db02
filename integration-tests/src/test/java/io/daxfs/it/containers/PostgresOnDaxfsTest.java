package io.daxfs.it.containers;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.MountableFile;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.daxfs.it.containers.ContainerSupport.number;
import static io.daxfs.it.containers.ContainerSupport.runOk;
import static io.daxfs.it.containers.ContainerSupport.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PostgreSQL 15 (Debian's package, image daxfs-pg) with its data directory on a daxfs mount in
 * a container: pgbench for a bounded time; then the daxfs daemon is killed with SIGKILL in the
 * middle of a pgbench run, the database server dies with it, daxfs is mounted again and
 * PostgreSQL recovers from its WAL. Then: pg_amcheck finds no corruption, every transaction a
 * pgbench client saw committed is in pgbench_history (its per-transaction log, -l, lists them),
 * the TPC-B balances agree, and daxfs fsck finds the image clean. The steps are
 * src/test/resources/containers/pg-on-daxfs.sh; the output is in
 * target/container-logs/postgres-on-daxfs.log.
 */
@Tag(ContainerSupport.TAG)
@ResourceLock("docker")
class PostgresOnDaxfsTest {
    private static final int CLIENTS = 4;

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void survivesKill9OfTheDaemonWithEveryCommittedTransaction() {
        ContainerSupport.Images images = ContainerSupport.images();
        String root = ContainerSupport.ROOT.toString();
        try (GenericContainer<?> c = ContainerSupport.fuseContainer(images.pg(), "postgres-on-daxfs")
                .withFileSystemBind(root, root, org.testcontainers.containers.BindMode.READ_ONLY)
                .withEnv("DAXFS_ROOT", root)
                .withTmpFs(Map.of("/pm", "rw,size=2g"))
                .withCopyFileToContainer(MountableFile.forClasspathResource("containers/pg-on-daxfs.sh", 0755), "/pg-on-daxfs.sh")) {
            c.start();
            Duration step = Duration.ofMinutes(5);

            String out = runOk(c, step, "mount daxfs", "/pg-on-daxfs.sh mount");
            assertEquals("fuse.daxfs", value(out, "fstype"));

            out = runOk(c, step, "initdb on daxfs, pgbench -i", "/pg-on-daxfs.sh init");
            assertEquals("fuse.daxfs", value(out, "datadir_fstype"), "the data directory is on the daxfs mount");
            assertEquals(400_000, number(out, "accounts"));

            out = runOk(c, step, "pgbench for 20 s", "/pg-on-daxfs.sh bench 20");
            assertTrue(number(out, "processed") > 0, "pgbench committed transactions:\n" + out);

            out = runOk(c, step, "pgbench, kill -9 of the daxfs daemon in the middle", "/pg-on-daxfs.sh crash");
            long h0 = number(out, "h0");
            long committed = number(out, "committed");
            assertTrue(committed > 0, "transactions committed before the kill:\n" + out);
            assertNotEquals("0", value(out, "pgbench_rc"), "pgbench must have been cut off by the kill, not have finished:\n" + out);
            assertEquals("", value(out, "mounted_after"), "the dead mount is gone");
            // The database was on daxfs: once its daemon is dead no commit can succeed (pgbench's
            // log has each transaction's end time; 5 s of slack for the kill to land).
            assertEquals(0, number(out, "committed_after_kill"), "transactions committed after the daemon was killed:\n" + out);

            out = runOk(c, step, "mount again, PostgreSQL crash recovery", "/pg-on-daxfs.sh recover");
            assertEquals("fuse.daxfs", value(out, "fstype"));
            assertEquals("yes", value(out, "crash_recovery"), "PostgreSQL recovered from a crash:\n" + out);

            out = runOk(c, step, "pg_amcheck, committed transactions, balances", "/pg-on-daxfs.sh check");
            assertEquals(0, number(out, "amcheck_rc"), "pg_amcheck --heapallindexed --parent-check found corruption:\n" + out);
            long h1 = number(out, "h1");
            long added = h1 - h0;
            assertTrue(added >= committed, "lost committed transactions: the clients saw " + committed
                    + " commits but only " + added + " history rows were added");
            // A commit may be durable before its client hears of it: at most one per client.
            assertTrue(added <= committed + CLIENTS, added + " history rows added for " + committed
                    + " transactions the clients saw committed (at most " + CLIENTS + " more possible)");
            String[] sums = value(out, "sums").split(",");
            assertEquals(4, sums.length, "sums: " + Arrays.toString(sums));
            assertTrue(Arrays.stream(sums).distinct().count() == 1,
                    "sum(abalance), sum(bbalance), sum(tbalance), sum(delta) differ: " + Arrays.toString(sums));

            out = runOk(c, step, "stop PostgreSQL, unmount, daxfs fsck", "/pg-on-daxfs.sh stop");
            assertEquals(0, number(out, "fsck_rc"), "daxfs fsck of the image:\n" + out);
            System.out.println("PostgreSQL on daxfs: " + committed + " transactions committed before kill -9, " + added
                    + " found after recovery");
        }
    }
}
