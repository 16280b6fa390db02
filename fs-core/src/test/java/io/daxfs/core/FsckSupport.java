package io.daxfs.core;

import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the read-only checker on an image and fails with its report unless it is clean. */
public final class FsckSupport {
    private FsckSupport() {
    }

    public static void assertClean(MemorySegment device, String context) {
        FsckReport report = FsChecker.check(device);
        assertTrue(report.clean(), () -> context + ": fsck found problems:\n" + report.render());
    }
}
