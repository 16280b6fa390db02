package io.daxfs.core.race;

import io.daxfs.core.DaxFileSystem;
import io.daxfs.core.TestDevice;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the pause-point race tests share: before each test a fresh 32 MiB file system and a
 * pool for the threads that race; after it, the pause points cleared (no thread still running
 * stops at one any more), the pool stopped and the device closed, in that order.
 */
abstract class RaceFixture {
    static final int B = 4096;
    static final long ROOT = DaxFileSystem.ROOT;
    TestDevice dev;
    DaxFileSystem fs;
    ExecutorService pool;

    @BeforeEach
    void setUp() {
        dev = TestDevice.create(32 * TestDevice.MIB);
        fs = dev.fs();
        pool = Executors.newCachedThreadPool();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        fs.internals().pausePoints().clear();
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        dev.close();
    }

    /** The task's result, waiting no longer than a gate does. */
    static <T> T get(Future<T> f) throws Exception {
        return f.get(Gate.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** What fsck finds on the image as it stands. */
    FsckReport fsck() {
        return FsChecker.check(dev.region().readView());
    }

    /** fsck finds the image clean. */
    void assertClean() {
        FsckReport report = fsck();
        assertTrue(report.clean(), report.render());
    }
}
