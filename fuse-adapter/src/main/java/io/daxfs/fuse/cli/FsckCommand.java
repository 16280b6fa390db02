package io.daxfs.fuse.cli;

import io.daxfs.core.Fsck;
import io.daxfs.core.check.FsChecker;
import io.daxfs.core.check.FsckReport;
import io.daxfs.devdax.DeviceException;
import io.daxfs.devdax.DeviceOpener;
import io.daxfs.devdax.DeviceOptions;
import io.daxfs.devdax.OpenedDevice;
import io.daxfs.fuse.tools.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code daxfs fsck [-n|-y] TARGET}: reports (-n, the default: the image is opened read-only
 * and never written), or repairs (-y: the image is opened read-write with the exclusive lock,
 * so a mounted image is refused). Exit status as e2fsck: 0 clean, 1 repaired, 4 errors left,
 * 8 could not check. A progress bar on stderr when it is a terminal and the check runs longer
 * than a second ({@link CheckProgress}).
 */
@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = "Check a daxfs (-n, the default: change nothing) or repair it (-y). Exit status: 0 clean,"
                + " 1 errors found and repaired, 4 errors left, 8 could not check.")
final class FsckCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "TARGET")
    Path target;

    @Option(names = "-n", description = "Report only (the default): open the image read-only, write nothing.")
    boolean reportOnly;

    @Option(names = "-y", description = "Repair everything found; print each finding and what was done.")
    boolean repair;

    @Option(names = "--no-progress", description = "No progress bar, even on a terminal.")
    boolean noProgress;

    @Override
    public Integer call() {
        if (reportOnly && repair) {
            System.err.println("daxfs fsck: -n and -y exclude each other");
            return FsckReport.COULD_NOT_CHECK;
        }
        DeviceOptions options = repair ? DeviceOptions.defaults() : DeviceOptions.readOnlyOptions();
        try (OpenedDevice device = DeviceOpener.open(target, options); CheckProgress progress = new CheckProgress(!noProgress)) {
            FsckReport report = repair
                    ? Fsck.repair(device.region(), progress)
                    : Fsck.check(device.region().readView(), progress);
            progress.close();
            int code = report.exitCode();
            (code <= FsckReport.REPAIRED ? System.out : System.err).print(report.render());
            return code;
        } catch (DeviceException e) {
            String why = e.reason() == DeviceException.Reason.IN_USE
                    ? target + " is in use (mounted?); unmount it before " + (repair ? "repairing" : "checking")
                    : e.getMessage();
            System.err.println("daxfs fsck: cannot check: " + why);
            return FsckReport.COULD_NOT_CHECK;
        }
    }

    /**
     * fsck's progress bar: a {@link Progress} (quiet unless standard error is a terminal), made
     * only once the check has run {@link Progress#delayMillis()} (a second unless
     * DAXFS_PROGRESS_AFTER_MS says otherwise), so a quick check never flashes one.
     */
    static final class CheckProgress implements FsChecker.Progress, AutoCloseable {
        private final boolean wanted;
        private final long start = System.nanoTime();
        private final long delayNanos = Progress.delayMillis() * 1_000_000L;
        private Progress bar;

        CheckProgress(boolean wanted) {
            this.wanted = wanted && Progress.wanted();
        }

        @Override
        public void advanced(long done, long total) {
            if (!wanted || total <= 0) {
                return;
            }
            if (bar == null) {
                if (System.nanoTime() - start < delayNanos || done >= total) {
                    return;
                }
                bar = Progress.start("fsck", total, "", 1);
            }
            bar.stepTo(done, total);
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
